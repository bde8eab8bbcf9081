package initspec

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// registries writes docker.io's mirrors from registry-mirrors and a block per insecure
// registry, set as its probe found it speak.
func (g *generator) registries(ctx context.Context, st settings, px *spec.Proxy, timeout time.Duration) {
	body := g.regs.Body()
	src := sourceName(st.daemonPath)
	plainHTTP := map[string]bool{}
	for _, entry := range st.insecure {
		host, network := insecureHost(entry)
		subject := fmt.Sprintf("registry %q", host)
		if network {
			if len(body.BuildTokens(nil)) > 0 {
				body.AppendNewline()
			}
			comment(body, fmt.Sprintf("%s lists %s in insecure-registries, a network: write a registry block for each", src, entry),
				"registry in it (http = true for plain HTTP, insecure = true for TLS without verification).")
			g.note("insecure registry "+entry, st.daemonPath+" insecure-registries", "a network, not a host: left as a comment")
			continue
		}
		if len(body.BuildTokens(nil)) > 0 {
			body.AppendNewline()
		}
		res := probe(ctx, host, px, timeout)
		g.note(subject, st.daemonPath+" insecure-registries", res.report())
		switch res.kind {
		case speaksHTTP, speaksInsecureTLS:
			comment(body, fmt.Sprintf("In %s insecure-registries; a probe of /v2/ found %s.", src, res.kind))
			b := body.AppendNewBlock("registry", []string{host}).Body()
			if res.kind == speaksHTTP {
				b.SetAttributeValue("http", cty.True)
				plainHTTP[host] = true
			} else {
				b.SetAttributeValue("insecure", cty.True)
			}
		case speaksTLS:
			comment(body, fmt.Sprintf("%s is in %s insecure-registries, but its certificate is trusted: nothing to set.", host, src))
		default:
			comment(body, fmt.Sprintf("%s is in %s insecure-registries; a probe of /v2/ could not tell how it speaks", host, src),
				fmt.Sprintf("(%s). Uncomment the line that fits:", res.short()),
				fmt.Sprintf("registry %q {", host),
				"  http     = true # plain HTTP",
				"  insecure = true # or TLS without certificate verification",
				"}")
		}
	}
	g.mirrors(body, st, plainHTTP)
}

// mirrors writes docker.io's registry block from registry-mirrors. A mirror whose host a
// probe found speaking plain HTTP is written http://, as Docker would reach it.
func (g *generator) mirrors(body *hclwrite.Body, st settings, plainHTTP map[string]bool) {
	var mirrors []string
	for _, m := range st.mirrors {
		norm, detail := normalizeMirror(m, plainHTTP)
		if norm == "" {
			g.note("registry-mirrors entry", st.daemonPath+" registry-mirrors", detail)
			continue
		}
		mirrors = append(mirrors, norm)
		g.note(`registry "docker.io" mirror `+norm, st.daemonPath+" registry-mirrors", detail)
	}
	if len(mirrors) == 0 {
		return
	}
	if len(body.BuildTokens(nil)) > 0 {
		body.AppendNewline()
	}
	comment(body, "registry-mirrors from "+sourceName(st.daemonPath)+": tried in order, then Docker Hub itself",
		"(mirrors_only = true to never fall back to it).")
	body.AppendNewBlock("registry", []string{"docker.io"}).Body().SetAttributeValue("mirrors", stringList(mirrors))
}

// normalizeMirror returns the mirror URL to write ("" to leave it out) and what the report
// says about it.
func normalizeMirror(m string, plainHTTP map[string]bool) (string, string) {
	m = strings.TrimRight(strings.TrimSpace(m), "/")
	detail := "as written"
	if !strings.Contains(m, "://") {
		m, detail = "https://"+m, "https:// added"
	}
	u, err := url.Parse(m)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", "not an http(s) URL without credentials: left out"
	}
	if u.Scheme == "https" && plainHTTP[u.Host] {
		u.Scheme = "http"
		detail = "written http://: its host speaks plain HTTP (insecure-registries probe)"
	}
	return u.String(), detail
}

// insecureHost returns the host[:port] of an insecure-registries entry, and whether the
// entry is a network (CIDR) rather than a host. Docker accepts a scheme there; it is
// dropped.
func insecureHost(entry string) (string, bool) {
	e := strings.TrimSpace(entry)
	if i := strings.Index(e, "://"); i >= 0 {
		e = e[i+3:]
	}
	e = strings.TrimRight(e, "/")
	if _, _, err := net.ParseCIDR(e); err == nil {
		return e, true
	}
	return e, false
}
