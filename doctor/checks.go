package doctor

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/util/resolver/config"
)

// Checks returns every check of a valid spec, in report order: lock, DNS per host, each
// mirror's /v2/ and the images it serves, the proxy and no_proxy, the builders, and the
// clock. The spec check itself comes from SpecCheck.
func Checks(s *spec.Spec, o Options) []Check {
	e := newEnv(s, o)
	checks := []Check{e.lockCheck()}
	checks = append(checks, e.dnsChecks()...)
	for _, m := range e.mirrors {
		checks = append(checks, e.mirrorCheck(m), e.mirrorImagesCheck(m))
	}
	checks = append(checks, e.proxyChecks()...)
	checks = append(checks, e.builderChecks()...)
	checks = append(checks, e.secretsCheck()...)
	return append(checks, e.clockCheck())
}

// env is what every check of one run shares: the spec, the options and what was derived
// from them once.
type env struct {
	s *spec.Spec
	o Options
	// conf is the spec's registry configuration (nil when it is invalid; confErr says why).
	conf    map[string]config.RegistryConfig
	confErr error
	// mirrors are every mirror of the spec, once each, in registry then spec order.
	mirrors []mirrorOf
	// bases are the spec's base images (basesErr says why there are none).
	bases    []registry.ImageRequest
	basesErr error
	// offline is the plan compiled with stand-in bases that found them (nil with basesErr).
	offline *compiler.Plan
	// used are the registry hosts some base image or tag names; pulled those of base
	// images, pushed those of tags a registry output pushes to.
	used, pulled, pushed map[string]bool
	// proxy selects the spec's proxy for a request; nil without a proxy block.
	proxy func(*http.Request) (*url.URL, error)
	// probe finds out once what the builders say (several checks use it).
	probe func() []builderProbe
	// reach is each mirror's health and each registry's reachability, asked once.
	reach *reach
	// jobs are apply's jobs from the offline compile (outputs, tags, cache entries), once.
	jobs func() ([]*solver.Job, error)
	// fetched downloads one pinned base into the cache once, for the builder probes.
	fetched *fetches
	// lock is the lock file, read and parsed once for every check that reads a pin.
	lock func() (*registry.Lock, error)
	// resolver is the run's one registry resolver over Options.Cache: the lock check and
	// the base fetches share its clients, tokens and the mirrors it gave up on. Each call
	// bounds itself by its ctx.
	resolver func() (*registry.Resolver, error)
}

// mirrorOf is a mirror and the registry it mirrors.
type mirrorOf struct {
	registry.Mirror
	Raw      string // as written in the spec
	Registry *spec.Registry
}

func newEnv(s *spec.Spec, o Options) *env {
	e := &env{s: s, o: o.withDefaults(s.Dir), used: map[string]bool{}, pulled: map[string]bool{}, pushed: map[string]bool{}, proxy: registry.ProxyFunc(s.Proxy)}
	e.conf, e.confErr = registry.RegistryConfig(s)
	for i := range s.Registries {
		r := &s.Registries[i]
		for _, raw := range r.Mirrors {
			mu, err := registry.ParseMirror(raw)
			if err != nil || slices.ContainsFunc(e.mirrors, func(m mirrorOf) bool { return m.URL == mu.URL }) {
				continue // an invalid mirror is the spec's error; validation reports it
			}
			e.mirrors = append(e.mirrors, mirrorOf{Mirror: mu, Raw: raw, Registry: r})
		}
	}
	e.discover()
	for _, b := range e.bases {
		e.used[domainOf(b.Ref)] = true
		e.pulled[domainOf(b.Ref)] = true
	}
	for _, c := range s.Components {
		for _, t := range c.Tags {
			e.used[domainOf(t)] = true
			if c.Output == spec.OutputRegistry {
				e.pushed[domainOf(t)] = true
			}
		}
	}
	e.probe = onceProbe(e)
	e.reach = newReach(e)
	e.jobs = jobsOnce(e)
	e.fetched = &fetches{m: map[string]func() error{}}
	e.lock = sync.OnceValues(func() (*registry.Lock, error) { return registry.ReadLock(e.o.LockPath) })
	e.resolver = sync.OnceValues(func() (*registry.Resolver, error) { return e.newResolver(e.o.Cache) })
	return e
}

// domainOf is the registry host of an image reference ("docker.io" for "alpine").
func domainOf(ref string) string {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	return reference.Domain(n)
}

// schemeOf is how archc and BuildKit talk to host: "http" when the spec says http (or the
// host is loopback and the spec says nothing), else "https".
func (e *env) schemeOf(host string) string {
	if registry.SpeaksHTTP(host, e.conf[host]) {
		return "http"
	}
	return "https"
}

// proxyFor returns the proxy URL (redacted) a request to scheme://host goes through, or "".
func (e *env) proxyFor(scheme, host string) string {
	req, err := http.NewRequest(http.MethodGet, scheme+"://"+host+"/v2/", nil)
	if err != nil {
		return ""
	}
	u, err := e.proxy(req)
	if err != nil || u == nil {
		return ""
	}
	return spec.RedactURL(u.String())
}

// isLoopback reports whether host (with or without a port) is a loopback IP or localhost.
func isLoopback(host string) bool {
	h := registry.Hostname(host)
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// relPath prints a path relative to the spec's directory (absolute paths differ between
// machines and would make reports unstable).
func (e *env) relPath(p string) string {
	if rel, ok := strings.CutPrefix(p, e.s.Dir+string(os.PathSeparator)); ok {
		return rel
	}
	return p
}

// quoteList joins items as "a", "b".
func quoteList(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
