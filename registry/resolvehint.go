package registry

import (
	"fmt"
	"net"
	"net/http"
	"strings"

	"github.com/distribution/reference"
)

// hintFor says what to do about a reference no host served, from the most telling cause:
// credentials, the token server, TLS, a tag that does not exist, a proxy answering in a
// host's place, a mirror that lacks the tag, no mirror at all, mirrors down.
func hintFor(ref string, results []*HostError) string {
	classes := map[Class]bool{}
	mirrors, upstreamLacks := false, false
	tokenServer := ""
	var tlsHost, proxied, lacking *HostError
	for _, h := range results {
		classes[h.Class] = true
		mirrors = mirrors || h.Mirror
		if h.TokenServer != "" && h.Class != ClassAuth {
			tokenServer = h.TokenServer
		}
		if h.Class == ClassTLS && (tlsHost == nil || h.Mirror && !tlsHost.Mirror) {
			tlsHost = h
		}
		if h.Proxy != "" && proxied == nil {
			proxied = h
		}
		if h.Class == ClassNotFound && h.Status == http.StatusNotFound {
			if !h.Mirror {
				upstreamLacks = true
			} else if lacking == nil {
				lacking = h
			}
		}
	}
	domain := ref
	if n, err := reference.ParseNormalizedNamed(ref); err == nil {
		domain = reference.Domain(n)
	}
	switch {
	case classes[ClassAuth]:
		return fmt.Sprintf("log in to the registry (docker login %s) or check that the repository exists and you may pull it", domain)
	case tokenServer != "":
		return fmt.Sprintf("the registry hands out pull tokens from %s, which must be reachable too: check the spec's proxy block and that no_proxy does not cover it", tokenServer)
	case tlsHost != nil:
		mirrorURL := ""
		if tlsHost.Mirror {
			mirrorURL = tlsHost.Host
		}
		return TLSFix(domain, mirrorURL, IsPlainHTTP(tlsHost.Err))
	case classes[ClassNotFound] && len(classes) == 1 && (upstreamLacks || lacking == nil):
		return "check the image name and tag; if the tag was removed, update the pin of " + ref + " in the lock"
	case proxied != nil && lacking != nil:
		return seedHint(ref, domain, lacking) + "; and " + proxyHint(proxied)
	case proxied != nil:
		return proxyHint(proxied)
	case lacking != nil:
		return seedHint(ref, domain, lacking)
	case !mirrors:
		return fmt.Sprintf("configure a mirror: registry %q { mirrors = [\"https://...\"] } in the spec, or check the proxy block", domain)
	default:
		return "check that the mirrors are up (archc doctor) and that the proxy block and no_proxy are right"
	}
}

// seedHint is for a mirror that answered 404 for ref: the mirror was never given the
// image (a plain registry used as a mirror), or, as a pull-through cache, could not fetch
// it from domain.
func seedHint(ref, domain string, h *HostError) string {
	dst := h.Host
	if mu, err := ParseMirror(h.Host); err == nil {
		dst = mu.Host + mu.Path
	}
	return fmt.Sprintf("the mirror %s does not have %s: copy it there (crane copy %s %s/%s), or, if the mirror is a pull-through cache, check that it can reach %s",
		h.Host, repoTag(ref), ref, dst, repoTag(ref), domain)
}

// proxyHint is for a proxy that answered in a host's place: the proxy could not reach it.
func proxyHint(h *HostError) string {
	host := h.Host
	if mu, err := ParseMirror(h.Host); h.Mirror && err == nil {
		host = mu.Host
	}
	proxy, _, _ := strings.Cut(h.Proxy, " ")
	return fmt.Sprintf("the proxy %s answered for %s: it could not reach it; check that the proxy can resolve and reach %s, or list %s in the proxy block's no_proxy if it is to be reached directly",
		proxy, host, host, Hostname(host))
}

// repoTag is ref's repository path with its tag or digest ("library/busybox:1.36"), as
// a mirror stores it.
func repoTag(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ref
	}
	out := reference.Path(n)
	if t, ok := n.(reference.Tagged); ok {
		out += ":" + t.Tag()
	}
	if d, ok := n.(reference.Digested); ok {
		out += "@" + d.Digest().String()
	}
	return out
}

// Hostname is a registry host ("HOST[:PORT]", an IPv6 address in brackets) without its
// port and brackets: the name DNS and NO_PROXY see.
func Hostname(hostport string) string {
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		return h
	}
	return strings.Trim(hostport, "[]")
}
