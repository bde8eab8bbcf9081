package doctor

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"

	"github.com/archc-dev/archc/registry"
)

// noProxyCheck warns when no_proxy does not name the loopback and in-house (http,
// insecure or private-CA) registries and mirrors. Go programs (archc, buildkitd) never
// proxy loopback addresses whatever no_proxy says, but an in-house name is sent to the
// proxy, which usually cannot reach it, and tools in RUN steps proxy loopback too.
func (e *env) noProxyCheck() Check {
	return Check{Name: "no_proxy", Run: func(ctx context.Context) Finding {
		p := e.s.Proxy
		need := e.directHosts()
		checked := fmt.Sprintf("no_proxy = [%s] against %d loopback/in-house hosts", quoteList(p.NoProxy), len(need))
		var uncovered, add []string
		for _, h := range need {
			if noProxyCovers(p.NoProxy, h.host) {
				continue
			}
			uncovered = append(uncovered, fmt.Sprintf("%s (%s)", h.host, h.why))
			if s := noProxyEntry(h.host); !slices.Contains(add, s) {
				add = append(add, s)
			}
		}
		if len(uncovered) == 0 {
			return Finding{Verdict: OK, Checked: checked + ": all covered"}
		}
		return Finding{Verdict: Warn, Checked: checked,
			Cause: "not covered by no_proxy: " + strings.Join(uncovered, ", ") + "; requests to them go to the proxy, which usually cannot reach in-house hosts (Go skips the proxy for loopback, tools in RUN steps do not)",
			Fix:   fmt.Sprintf("add %s to no_proxy in the proxy block", quoteList(add))}
	}}
}

// directHost is a host that must be reached without the proxy, and why.
type directHost struct{ host, why string }

// directHosts lists loopback registries, mirrors and push targets and the in-house
// registries (http, insecure or ca in the spec), sorted, each once.
func (e *env) directHosts() []directHost {
	seen := map[string]bool{}
	var out []directHost
	add := func(host, why string) {
		if host == "" || seen[host] {
			return
		}
		seen[host] = true
		out = append(out, directHost{host: host, why: why})
	}
	for _, r := range e.s.Registries {
		switch {
		case isLoopback(r.Host):
			add(r.Host, "loopback registry")
		case r.HTTP:
			add(r.Host, "in-house registry, plain HTTP")
		case r.Insecure:
			add(r.Host, "in-house registry, insecure")
		case r.CA != "":
			add(r.Host, "in-house registry, private CA")
		}
	}
	for _, m := range e.mirrors {
		if isLoopback(m.Host) {
			add(m.Host, "loopback mirror")
		}
	}
	var used []string
	for h := range e.used {
		used = append(used, h)
	}
	slices.Sort(used)
	for _, h := range used {
		if isLoopback(h) {
			add(h, "loopback registry")
		}
	}
	slices.SortFunc(out, func(a, b directHost) int { return strings.Compare(a.host, b.host) })
	return out
}

// noProxyCovers reports whether a no_proxy list names hostport: "*", an exact host or
// host:port, a domain (".example.com" or "example.com" covers it and its subdomains) or
// an IP range in CIDR form. Unlike Go's proxy rules it does not exempt loopback: this is
// about every client that reads the variable.
func noProxyCovers(entries []string, hostport string) bool {
	host := strings.ToLower(registry.Hostname(hostport))
	ip := net.ParseIP(host)
	for _, raw := range entries {
		en := strings.ToLower(strings.TrimSpace(raw))
		switch {
		case en == "":
		case en == "*":
			return true
		case strings.Contains(en, "/"):
			if _, n, err := net.ParseCIDR(en); err == nil && ip != nil && n.Contains(ip) {
				return true
			}
		case en == strings.ToLower(hostport):
			return true
		default:
			if _, _, err := net.SplitHostPort(en); err == nil {
				continue // a host:port entry covers only that host:port, matched above
			}
			dom := strings.TrimPrefix(en, ".")
			if host == dom || strings.HasSuffix(host, "."+dom) {
				return true
			}
		}
	}
	return false
}

// noProxyEntry is what to add to no_proxy for host: the IP or localhost itself, else its
// parent domain (".example.internal" for nexus.example.internal:8082).
func noProxyEntry(hostport string) string {
	h := registry.Hostname(hostport)
	if net.ParseIP(h) != nil || !strings.Contains(h, ".") {
		return h
	}
	_, parent, _ := strings.Cut(h, ".")
	if !strings.Contains(parent, ".") {
		return h // don't suggest a whole top-level domain
	}
	return "." + parent
}
