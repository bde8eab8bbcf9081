package doctor

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// healthBound bounds one registry.CheckMirror, its own retries of transient answers
// included.
const healthBound = registry.DefaultCheckDeadline + time.Second

// judgeTimeout is how long judging a lost host may take: a mirror's health, then the
// registry's own.
const judgeTimeout = 2 * healthBound

// health is what registry.CheckMirror said about one mirror: the rule apply uses to leave
// a mirror out of the run (solver.CheckSpecMirrors).
type health struct {
	mh  *registry.MirrorHealth
	err error
}

// reach holds, computed once per run and shared by every check that judges by them, each
// mirror's health and each registry's own reachability. A verdict that depends on another
// host (is there a fallback?) reads them here, so two checks never disagree about a host.
type reach struct {
	mirrors   map[string]func() health // by mirror URL
	images    map[string]func() served // by mirror URL: the pinned manifests it serves
	mu        sync.Mutex
	upstreams map[string]func() error // by registry domain; asked only when a verdict needs it
}

func newReach(e *env) *reach {
	r := &reach{mirrors: map[string]func() health{}, images: map[string]func() served{}, upstreams: map[string]func() error{}}
	for _, m := range e.mirrors {
		r.mirrors[m.URL] = sync.OnceValue(func() health {
			ctx, cancel := context.WithTimeout(context.Background(), healthBound)
			defer cancel()
			mh, err := registry.CheckMirror(ctx, m.Raw, e.s, registry.WithDialContext(e.o.Dial))
			return health{mh: mh, err: err}
		})
		r.images[m.URL] = sync.OnceValue(func() served {
			ctx, cancel := context.WithTimeout(context.Background(), e.o.Timeout)
			defer cancel()
			return e.serveImages(ctx, m)
		})
	}
	return r
}

// await returns f's (shared, computed once) value unless ctx ends first.
func await[T any](ctx context.Context, f func() T) (T, bool) {
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v, true
	case <-ctx.Done():
		var zero T
		return zero, false
	}
}

// mirrorHealth is CheckMirror's verdict on m (ok false when ctx ended first).
func (e *env) mirrorHealth(ctx context.Context, m mirrorOf) (health, bool) {
	return await(ctx, e.reach.mirrors[m.URL])
}

// upstreamErr says why registry domain itself cannot be reached (nil: its /v2/ answers),
// the way archc's resolver and the builder reach it: through the spec's proxy unless
// no_proxy covers it, else after a local lookup. It is asked only when a verdict depends
// on it, never just to be thorough: every request to a public registry that an air-gapped
// machine cannot reach costs a timeout.
func (e *env) upstreamErr(ctx context.Context, domain string) (error, bool) {
	e.reach.mu.Lock()
	f, ok := e.reach.upstreams[domain]
	if !ok {
		f = sync.OnceValue(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), healthBound)
			defer cancel()
			return e.probeUpstream(ctx, domain)
		})
		e.reach.upstreams[domain] = f
	}
	e.reach.mu.Unlock()
	return await(ctx, f)
}

func (e *env) probeUpstream(ctx context.Context, domain string) error {
	up := registry.UpstreamHost(domain)
	scheme := e.schemeOf(domain)
	name := registry.Hostname(up)
	if e.proxyFor(scheme, up) == "" && !isLoopback(up) && net.ParseIP(name) == nil {
		lctx, cancel := context.WithTimeout(ctx, dnsTimeout)
		defer cancel()
		if _, err := e.o.Resolver.LookupHost(lctx, name); err != nil {
			return fmt.Errorf("%s does not resolve (%s: %s)", name, e.o.Resolver.Name, dnsCause(err, lctx))
		}
	}
	// CheckMirror is registry's one /v2/ health rule (transport, retries, classes); the
	// registry itself is asked like a mirror of itself.
	_, err := registry.CheckMirror(ctx, scheme+"://"+up, e.s, registry.WithDialContext(e.o.Dial))
	if err != nil {
		return fmt.Errorf("%s: %s", up, causeOf(err))
	}
	return nil
}

// causeOf is an error for a Finding: a HostError without the host it names, redacted.
func causeOf(err error) string {
	if he, ok := err.(*registry.HostError); ok {
		return hostCause(he)
	}
	return registry.Redact(err.Error())
}

// fallback is where pulls from a registry go when a host of it is lost.
type fallback struct {
	via  string // the host builds pull from instead ("mirror http://…" or "registry-1.docker.io"); "" for none
	none string // why there is none, when via is ""
}

// fallbackFor says which host serves pulls from registry domain, in apply's order (its
// healthy mirrors, then the registry itself unless mirrors_only), among the hosts use
// accepts (m is nil for the registry itself; a nil use accepts every host).
func (e *env) fallbackFor(ctx context.Context, domain string, use func(scheme, host string, m *mirrorOf) bool) fallback {
	if use == nil {
		use = func(string, string, *mirrorOf) bool { return true }
	}
	for i := range e.mirrors {
		m := &e.mirrors[i]
		if m.Registry.Host != domain {
			continue
		}
		if h, ok := e.mirrorHealth(ctx, *m); ok && h.err == nil && use(m.Scheme, m.Host, m) {
			return fallback{via: "mirror " + m.URL}
		}
	}
	r := e.s.Registry(domain)
	if r != nil && r.MirrorsOnly {
		return fallback{none: fmt.Sprintf("registry %q is mirrors_only and no other mirror of it can serve them", domain)}
	}
	up := registry.UpstreamHost(domain)
	if !use(e.schemeOf(domain), up, nil) {
		return fallback{none: fmt.Sprintf("%s goes through the same proxy", up)}
	}
	err, ok := e.upstreamErr(ctx, domain)
	switch {
	case !ok:
		return fallback{none: fmt.Sprintf("%s did not answer before the deadline", up)}
	case err != nil:
		return fallback{none: "the registry itself cannot be reached either: " + err.Error()}
	}
	return fallback{via: up}
}

// otherThan accepts every host but the mirror url.
func otherThan(url string) func(string, string, *mirrorOf) bool {
	return func(_, _ string, m *mirrorOf) bool { return m == nil || m.URL != url }
}

// mirrorLoss judges a mirror that does not answer as apply would: apply leaves it out of
// the run and pulls from the next host (builders, local or remote, never use a mirror), so
// only a registry left without any host makes it a failure. It returns the verdict and what
// follows for the build, as a sentence.
func (e *env) mirrorLoss(ctx context.Context, m mirrorOf) (Verdict, string) {
	domain := m.Registry.Host
	if !e.pulled[domain] {
		return Warn, fmt.Sprintf("no base image comes from %s, so `archc apply` only skips it", domain)
	}
	fb := e.fallbackFor(ctx, domain, otherThan(m.URL))
	if fb.via != "" {
		return Warn, fmt.Sprintf("`archc apply` skips it and pulls %s images from %s", domain, fb.via)
	}
	return Fail, fmt.Sprintf("`archc apply` skips it and then has no host to pull %s images from: %s", domain, fb.none)
}

// sameProxy returns a test of whether a request to scheme://host would go through the
// proxy raw.
func (e *env) sameProxy(raw string) func(scheme, host string) bool {
	want := spec.RedactURL(normURL(raw))
	return func(scheme, host string) bool {
		p := e.proxyFor(scheme, host)
		return p != "" && p == want
	}
}

// proxyImpact says what a proxy that does not work breaks, as apply would find it: the
// registries that then have no host to pull from, and push targets reached through it
// (needed: a build fails), and what merely loses something (affected: the registry itself
// as a fallback behind a mirror, RUN steps' network through the proxy environment).
func (e *env) proxyImpact(ctx context.Context, raw string) (needed, affected []string) {
	via := e.sameProxy(raw)
	for _, domain := range sortedKeys(e.pushed) {
		up := registry.UpstreamHost(domain)
		if via(e.schemeOf(domain), up) {
			needed = append(needed, "pushes to "+up)
		}
	}
	for _, domain := range sortedKeys(e.pulled) {
		uses := via(e.schemeOf(domain), registry.UpstreamHost(domain))
		for _, m := range e.mirrors {
			uses = uses || m.Registry.Host == domain && via(m.Scheme, m.Host)
		}
		if !uses {
			continue
		}
		fb := e.fallbackFor(ctx, domain, func(scheme, host string, _ *mirrorOf) bool { return !via(scheme, host) })
		if fb.via == "" {
			needed = append(needed, "pulls from "+domain)
			continue
		}
		affected = append(affected, fmt.Sprintf("%s falls back through it (builds use %s)", domain, fb.via))
	}
	return needed, append(affected, "RUN steps' network access (BuildKit passes the proxy to them as HTTP_PROXY/HTTPS_PROXY)")
}

// normURL is a URL as net/url prints it (what proxyFor returns), or raw.
func normURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.String()
	}
	return raw
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v && k != "" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// joinNonEmpty joins the non-empty parts with sep.
func joinNonEmpty(sep string, parts ...string) string {
	return strings.Join(slices.DeleteFunc(parts, func(s string) bool { return s == "" }), sep)
}
