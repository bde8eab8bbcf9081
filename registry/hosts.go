package registry

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/moby/buildkit/util/resolver/config"
	"golang.org/x/net/http/httpproxy"
)

// RegistryConfig turns the spec's registry blocks into BuildKit's registry configuration,
// keyed by host. It is the one value behind both buildkitd.toml and archc's own resolver.
//
// A mirror URL becomes "host[:port][/path]" in its registry's Mirrors, and — because
// BuildKit takes a mirror's http/insecure/CA settings only from the mirror's own block,
// never from the registry it mirrors — every http:// mirror gets its own entry with
// http = true (merged with the spec's block for that host, if any). An https:// mirror on
// a loopback address gets http = false, or BuildKit would assume plain HTTP for it.
func RegistryConfig(s *spec.Spec) (map[string]config.RegistryConfig, error) {
	m := map[string]config.RegistryConfig{}
	for _, r := range s.Registries {
		m[r.Host] = hostConfig(r)
	}
	for _, r := range s.Registries {
		c := m[r.Host]
		c.Mirrors = nil
		for _, raw := range r.Mirrors {
			mu, err := ParseMirror(raw)
			if err != nil {
				return nil, fmt.Errorf("registry %q: %w", r.Host, err)
			}
			c.Mirrors = append(c.Mirrors, mu.Config())
			mc := m[mu.Host]
			switch {
			case mu.Scheme == "http":
				mc.PlainHTTP = boolPtr(true)
			case mc.PlainHTTP == nil && isLocalhost(mu.Host):
				mc.PlainHTTP = boolPtr(false)
			}
			m[mu.Host] = mc
		}
		m[r.Host] = c
	}
	// Drop entries that say nothing: BuildKit's defaults apply to them anyway.
	for h, c := range m {
		if len(c.Mirrors) == 0 && c.PlainHTTP == nil && c.Insecure == nil && len(c.RootCAs) == 0 {
			delete(m, h)
		}
	}
	return m, nil
}

// MirrorSettingNotes names every https mirror that will not get the TLS settings its
// registry block sets (insecure, ca): BuildKit, and so archc, take a mirror's settings only
// from the mirror host's own registry block, never from the registry it mirrors. One
// sentence per mirror, in spec order; `archc lock` and `archc builder config` show them.
func MirrorSettingNotes(s *spec.Spec) []string {
	blocks := map[string]bool{}
	for _, r := range s.Registries {
		blocks[r.Host] = true
	}
	var notes []string
	for _, r := range s.Registries {
		var set []string
		if r.Insecure {
			set = append(set, "insecure = true")
		}
		if r.CA != "" {
			set = append(set, "ca = ...")
		}
		if len(set) == 0 {
			continue
		}
		for _, raw := range r.Mirrors {
			mu, err := ParseMirror(raw)
			if err != nil || mu.Scheme != "https" || blocks[mu.Host] {
				continue
			}
			notes = append(notes, fmt.Sprintf("registry %q sets %s, which its mirror %s does not inherit: if the mirror needs it, add registry %q { %s }",
				r.Host, strings.Join(set, ", "), mu.URL, mu.Host, strings.Join(set, "; ")))
		}
	}
	return notes
}

func hostConfig(r spec.Registry) config.RegistryConfig {
	var c config.RegistryConfig
	if r.HTTP {
		c.PlainHTTP = boolPtr(true)
	}
	if r.Insecure {
		c.Insecure = boolPtr(true)
	}
	if r.CA != "" {
		c.RootCAs = []string{r.CA}
		// BuildKit speaks plain HTTP to a loopback host unless told otherwise: a CA says
		// the host speaks TLS (as for a mirror with an https:// URL).
		if !r.HTTP && isLocalhost(r.Host) {
			c.PlainHTTP = boolPtr(false)
		}
	}
	return c
}

func boolPtr(b bool) *bool { return &b }

// SpeaksHTTP reports whether archc and BuildKit talk plain HTTP to host under c (its
// rendered registry block): when c says so, or when c says nothing and host is loopback
// (BuildKit's rule, fillInsecureOpts).
func SpeaksHTTP(host string, c config.RegistryConfig) bool {
	if c.PlainHTTP != nil {
		return *c.PlainHTTP
	}
	return isLocalhost(host)
}

func isLocalhost(host string) bool {
	ok, _ := docker.MatchLocalhost(host)
	return ok
}

// Mirror is a parsed mirror URL.
type Mirror struct {
	// URL is the mirror as written, for messages (credentials redacted).
	URL string
	// Scheme is "http" or "https".
	Scheme string
	// Host is "host[:port]".
	Host string
	// Path is the path prefix without a trailing slash ("" or "/prefix").
	Path string
}

// ParseMirror parses a mirror URL; a bare "host[:port][/path]" means https.
func ParseMirror(raw string) (Mirror, error) {
	s := raw
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Mirror{}, fmt.Errorf("mirror %q is not a URL like https://mirror.example.net[/path]", Redact(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Mirror{}, fmt.Errorf("mirror %q: scheme %q is not http or https", Redact(raw), u.Scheme)
	}
	u.User = nil
	return Mirror{URL: u.String(), Scheme: u.Scheme, Host: u.Host, Path: strings.TrimRight(u.Path, "/")}, nil
}

// Config is the mirror as buildkitd.toml names it: host[:port][/path].
func (m Mirror) Config() string { return m.Host + m.Path }

// hostEntry is one host to try for a registry, in order.
type hostEntry struct {
	host   docker.RegistryHost
	label  string // the mirror URL or the upstream host, for messages
	key    string // the mirror as BuildKit's config names it (host[:port][/path]), or the upstream host
	mirror bool
}

// transportConfig is what every client transport shares: the proxy, the dialer, the
// retry policy and the request counter.
type transportConfig struct {
	proxy func(*http.Request) (*url.URL, error)
	dial  func(ctx context.Context, network, addr string) (net.Conn, error)
	retry retryPolicy
	count *atomic.Int64 // every request on the wire; nil: not counted
}

// newTransportConfig is the transport setup for the spec's proxy and the options.
func newTransportConfig(s *spec.Spec, o options, count *atomic.Int64) transportConfig {
	var p *spec.Proxy
	if s != nil {
		p = s.Proxy
	}
	return transportConfig{proxy: ProxyFunc(p), dial: o.dial, retry: o.retryPolicy(), count: count}
}

// ProxyFunc is the spec's proxy selection (http_proxy/https_proxy, all_proxy as their
// fallback, no_proxy honoured) for an http.Transport: the one rule archc's registry client,
// its token fetches and doctor all use. Without a proxy block nothing is proxied: the spec,
// not the environment, decides.
func ProxyFunc(p *spec.Proxy) func(*http.Request) (*url.URL, error) {
	if p == nil {
		return func(*http.Request) (*url.URL, error) { return nil, nil }
	}
	c := httpproxy.Config{HTTPProxy: p.HTTPProxy, HTTPSProxy: p.HTTPSProxy, NoProxy: strings.Join(p.NoProxy, ",")}
	if c.HTTPProxy == "" {
		c.HTTPProxy = p.AllProxy
	}
	if c.HTTPSProxy == "" {
		c.HTTPSProxy = p.AllProxy
	}
	f := c.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
}

// newTransport mirrors BuildKit's default registry transport, with the spec's proxy in
// place of the environment's; a CONNECT the proxy refuses is a *proxyRefusedError.
func (tc transportConfig) newTransport(tlsConf *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                  tc.proxy,
		OnProxyConnectResponse: onProxyConnect,
		DialContext:            tc.dial,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    32,
		IdleConnTimeout:        120 * time.Second,
		TLSHandshakeTimeout:    10 * time.Second,
		ExpectContinueTimeout:  5 * time.Second,
		TLSClientConfig:        tlsConf,
		TLSNextProto:           map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
}

// registryHosts returns the hosts to try for registry host, in order: each mirror, then
// the registry itself unless mirrorsOnly. It follows BuildKit's NewRegistryConfig rules
// (a mirror's settings come from its own entry; docker.io is served by
// registry-1.docker.io; loopback hosts default to plain HTTP) with archc's transports.
func registryHosts(m map[string]config.RegistryConfig, mirrorsOnly map[string]bool, host string, tc transportConfig, wrap func(http.RoundTripper, string) http.RoundTripper) ([]hostEntry, error) {
	c := m[host]
	var out []hostEntry
	for _, raw := range c.Mirrors {
		mu, err := ParseMirror(raw)
		if err != nil {
			return nil, err
		}
		h := docker.RegistryHost{Host: mu.Host, Scheme: "https", Path: path.Join("/v2", mu.Path),
			Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve}
		if err := fillHost(&h, m[mu.Host], tc, wrap); err != nil {
			return nil, fmt.Errorf("mirror %s: %w", mu.Host, err)
		}
		out = append(out, hostEntry{host: h, label: h.Scheme + "://" + mu.Host + mu.Path, key: mu.Config(), mirror: true})
	}
	if mirrorsOnly[host] {
		return out, nil
	}
	upstream := UpstreamHost(host)
	h := docker.RegistryHost{Host: upstream, Scheme: "https", Path: "/v2",
		Capabilities: docker.HostCapabilityPull | docker.HostCapabilityResolve | docker.HostCapabilityPush}
	if err := fillHost(&h, c, tc, wrap); err != nil {
		return nil, fmt.Errorf("registry %s: %w", host, err)
	}
	return append(out, hostEntry{host: h, label: upstream, key: upstream}), nil
}

// fillHost sets scheme and client like BuildKit's fillInsecureOpts.
func fillHost(h *docker.RegistryHost, c config.RegistryConfig, tc transportConfig, wrap func(http.RoundTripper, string) http.RoundTripper) error {
	tlsConf, err := TLSConfig(c)
	if err != nil {
		return err
	}
	isHTTP := SpeaksHTTP(h.Host, c)
	var rt http.RoundTripper = tc.newTransport(tlsConf)
	switch {
	case c.Insecure != nil && *c.Insecure:
		if isHTTP {
			rt = docker.NewHTTPFallback(rt)
		}
	case isHTTP:
		h.Scheme = "http"
	}
	h.Client = &http.Client{Transport: tc.client(rt, wrap, h.Host)}
	return nil
}

// client stacks the layers every request goes through, outermost first: the retry policy,
// the caller's wrapper (the resolver's manifest GETs), the counter that turns transient
// answers into errors, and the transport.
func (tc transportConfig) client(rt http.RoundTripper, wrap func(http.RoundTripper, string) http.RoundTripper, host string) http.RoundTripper {
	count := tc.count
	if count == nil {
		count = new(atomic.Int64)
	}
	var inner http.RoundTripper = &countingTransport{next: rt, count: count, proxy: tc.proxy}
	if wrap != nil {
		inner = wrap(inner, host)
	}
	return &retryTransport{next: inner, policy: tc.retry}
}
