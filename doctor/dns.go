package doctor

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// dnsTimeout bounds one lookup.
const dnsTimeout = 5 * time.Second

// dnsHost is one name to look up and why (or why not).
type dnsHost struct {
	name   string   // host name, no port
	uses   []string // "mirror of docker.io", "registry", "proxy"
	skip   string   // why no lookup is needed, or ""
	judges []judge  // what each direct use loses when the name does not resolve
}

// judge says how bad losing a host is for apply, and what follows, as a sentence.
type judge func(ctx context.Context) (Verdict, string)

// dnsChecks returns one check per host name the spec makes archc or the builder contact
// directly: registries, mirrors, proxies. IP addresses need no lookup and get no check;
// names the proxy resolves, registries never contacted (mirrors_only) and registry blocks
// no image or tag uses are listed without a lookup, saying why.
func (e *env) dnsChecks() []Check {
	hosts := e.dnsHosts()
	checks := make([]Check, 0, len(hosts))
	for _, h := range hosts {
		checks = append(checks, Check{Name: "dns " + h.name, Timeout: dnsTimeout + judgeTimeout, Run: func(ctx context.Context) Finding {
			uses := strings.Join(h.uses, ", ")
			if h.skip != "" {
				return Finding{Verdict: OK, Checked: fmt.Sprintf("%s (%s): not looked up: %s", h.name, uses, h.skip)}
			}
			lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
			addrs, err := e.o.Resolver.LookupHost(lctx, h.name)
			var cause string
			if err != nil {
				cause = dnsCause(err, lctx)
			}
			cancel()
			if err != nil {
				f := Finding{Verdict: OK, Checked: fmt.Sprintf("%s (%s) via %s", h.name, uses, e.o.Resolver.Name),
					Cause: fmt.Sprintf("%s does not resolve: %s", h.name, cause),
					Fix:   "fix the name in the spec, add it to DNS or /etc/hosts, or reach it through the proxy (keep it out of no_proxy)"}
				var then []string
				for _, j := range h.judges {
					v, s := j(ctx)
					f.Verdict = max(f.Verdict, v)
					then = append(then, s)
				}
				f.Cause = joinNonEmpty("; ", append([]string{f.Cause}, then...)...)
				return f
			}
			slices.Sort(addrs)
			return Finding{Verdict: OK, Checked: fmt.Sprintf("%s (%s) → %s via %s", h.name, uses, strings.Join(addrs, ", "), e.o.Resolver.Name)}
		}})
	}
	return checks
}

func dnsCause(err error, ctx context.Context) string {
	var de *net.DNSError
	switch {
	case ctx.Err() != nil:
		return "no answer before the deadline"
	case errors.As(err, &de) && de.IsNotFound:
		return "no such host"
	case errors.As(err, &de) && de.IsTimeout:
		return "the resolver timed out"
	}
	return err.Error()
}

// dnsHosts collects the names to check, sorted, each once with all its uses.
func (e *env) dnsHosts() []dnsHost {
	byName := map[string]*dnsHost{}
	add := func(hostport, use, skip string, j judge) {
		name := strings.ToLower(registry.Hostname(hostport))
		if name == "" || net.ParseIP(name) != nil {
			return
		}
		if isLoopback(name) {
			skip = "loopback"
		}
		h, ok := byName[name]
		if !ok {
			h = &dnsHost{name: name, skip: skip}
			byName[name] = h
		}
		if !slices.Contains(h.uses, use) {
			h.uses = append(h.uses, use)
		}
		if skip == "" { // one direct use needs the lookup
			h.skip = ""
			h.judges = append(h.judges, j)
		}
	}
	for _, r := range e.s.Registries {
		up := registry.UpstreamHost(r.Host)
		switch {
		case !e.used[r.Host]:
			add(up, "registry", "no base image or tag uses it", nil)
		case r.MirrorsOnly && !e.pushed[r.Host]:
			add(up, "registry", "mirrors_only: never contacted", nil)
		default:
			add(up, "registry", e.viaProxy(e.schemeOf(r.Host), up), e.registryLoss(r.Host))
		}
	}
	for host := range e.used {
		if host != "" && e.s.Registry(host) == nil {
			up := registry.UpstreamHost(host)
			add(up, "registry", e.viaProxy(e.schemeOf(host), up), e.registryLoss(host))
		}
	}
	for _, m := range e.mirrors {
		add(m.Host, "mirror of "+m.Registry.Host, e.viaProxy(m.Scheme, m.Host), func(ctx context.Context) (Verdict, string) {
			v, then := e.mirrorLoss(ctx, m)
			return v, "mirror " + m.URL + ": " + then
		})
	}
	if p := e.s.Proxy; p != nil {
		for _, u := range []string{p.HTTPProxy, p.HTTPSProxy, p.AllProxy} {
			if h := proxyHost(u); h != "" {
				add(h, "proxy", "", func(ctx context.Context) (Verdict, string) {
					v, then := e.proxyLoss(ctx, u)
					return v, "proxy " + spec.RedactURL(u) + ": " + then
				})
			}
		}
	}
	out := make([]dnsHost, 0, len(byName))
	for _, h := range byName {
		slices.Sort(h.uses)
		out = append(out, *h)
	}
	slices.SortFunc(out, func(a, b dnsHost) int { return strings.Compare(a.name, b.name) })
	return out
}

// registryLoss judges a registry whose own name does not resolve: fatal for a push
// target, and for pulls unless a mirror serves them; behind a healthy mirror it is a
// warning that names what is left.
func (e *env) registryLoss(domain string) judge {
	return func(ctx context.Context) (Verdict, string) {
		up := registry.UpstreamHost(domain)
		if e.pushed[domain] {
			return Fail, fmt.Sprintf("pushing tags to %s will fail", domain)
		}
		fb := e.fallbackFor(ctx, domain, func(_, _ string, m *mirrorOf) bool { return m != nil })
		if fb.via == "" {
			return Fail, fmt.Sprintf("no mirror of %s answers either: pulling its images will fail", domain)
		}
		return Warn, fmt.Sprintf("builds use %s; if it fails or lacks an image, there is no fallback to %s", fb.via, up)
	}
}

// viaProxy says why a host reached through the proxy needs no local lookup, or "".
func (e *env) viaProxy(scheme, host string) string {
	if p := e.proxyFor(scheme, host); p != "" {
		return "reached through the proxy " + p + ", which resolves it"
	}
	return ""
}
