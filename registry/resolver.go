package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/log"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/util/resolver/config"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"
)

// Resolver resolves image references to digests per platform through the spec's mirrors
// and proxy, with classified retries, and keeps what it fetched in a Cache. It is safe for
// concurrent use; create one per command run (it remembers hosts that timed out).
type Resolver struct {
	conf        map[string]config.RegistryConfig
	mirrorsOnly map[string]bool
	cache       *Cache
	opts        options
	tc          transportConfig
	requests    atomic.Int64
	sem         chan struct{}
	flight      singleflight.Group

	mu       sync.Mutex
	hosts    map[string][]*hostEntry    // by registry host; clients shared for connection reuse
	timeouts map[string]map[string]bool // mirror key → the references that timed out on it
	down     map[string]downMirror      // mirror key → why it was given up on in this run
}

// downAfter is how many different references must time out on a mirror before the rest
// of the run skips it. A blackholed mirror must not eat every image's deadline, but one
// slow answer (a loaded mirror under --concurrency 16) must not condemn it for all the
// others either: two different images waiting in vain is the evidence. The registry
// itself is never skipped: it is the last resort, and without a mirror, skipping it would
// fail every remaining image on one slow answer.
const downAfter = 2

// NewResolver builds a client-side resolver from the same RegistryConfig that is rendered
// into buildkitd.toml, with transports that use the spec's proxy (honouring no_proxy) and
// never the environment's.
func NewResolver(s *spec.Spec, cache *Cache, opts ...Option) (*Resolver, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	conf, err := RegistryConfig(s)
	if err != nil {
		return nil, err
	}
	r := &Resolver{conf: conf, mirrorsOnly: map[string]bool{}, cache: cache, opts: o,
		sem: make(chan struct{}, o.concurrency), hosts: map[string][]*hostEntry{}, timeouts: map[string]map[string]bool{}, down: map[string]downMirror{}}
	for raw, why := range o.skip {
		mu, err := ParseMirror(raw)
		if err != nil {
			return nil, err
		}
		r.down[mu.Config()] = downMirror{label: mu.URL, why: why}
	}
	for _, reg := range s.Registries {
		r.mirrorsOnly[reg.Host] = reg.MirrorsOnly
	}
	r.tc = newTransportConfig(s, o, &r.requests)
	return r, nil
}

// Requests is the number of HTTP requests made so far (token fetches included).
func (r *Resolver) Requests() int64 { return r.requests.Load() }

// Cache is the content cache the resolver fills.
func (r *Resolver) Cache() *Cache { return r.cache }

// wrap is every client's transport: HEADs of manifests become GETs whose bodies go to the
// cache (see manifestGetTransport), and each request on the wire is counted.
func (r *Resolver) wrap(rt http.RoundTripper, _ string) http.RoundTripper {
	return &manifestGetTransport{next: rt, cache: r.cache}
}

// hostsFor returns the hosts to try for a registry, building their clients once.
func (r *Resolver) hostsFor(registry string) ([]*hostEntry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if hs, ok := r.hosts[registry]; ok {
		return hs, nil
	}
	entries, err := registryHosts(r.conf, r.mirrorsOnly, registry, r.tc, r.wrap)
	if err != nil {
		return nil, err
	}
	hs := make([]*hostEntry, len(entries))
	for i := range entries {
		e := entries[i]
		e.host.Authorizer = docker.NewDockerAuthorizer(docker.WithAuthClient(e.host.Client), docker.WithAuthCreds(r.creds))
		hs[i] = &e
	}
	r.hosts[registry] = hs
	return hs, nil
}

func (r *Resolver) creds(host string) (string, string, error) {
	if r.opts.creds == nil {
		return "", "", nil
	}
	return r.opts.creds(host)
}

// Resolve resolves ref (a tag or digest reference) for each platform: each mirror in
// order, then the registry itself unless mirrors_only, retrying transient failures with
// backoff inside the overall deadline. The index, manifests and configs end up in the
// cache. A failure is a *ResolveError naming every host tried and why.
func (r *Resolver) Resolve(ctx context.Context, ref string, platforms []string) (*Image, error) {
	im, _, err := r.resolveKnown(ctx, ref, platforms, nil)
	return im, err
}

// resolveKnown is Resolve handing back the content ref points to, for a caller that
// reads it next (VerifyLock). known, when not nil, is that content already read and
// verified for a digest reference: no host is asked for it again.
func (r *Resolver) resolveKnown(ctx context.Context, ref string, platforms []string, known *topContent) (*Image, *topContent, error) {
	norm, err := NormalizeRef(ref)
	if err != nil {
		return nil, nil, err
	}
	key := norm + " " + strings.Join(platforms, ",")
	v, err, _ := r.flight.Do(key, func() (any, error) {
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-r.sem }()
		return r.resolve(ctx, norm, platforms, known)
	})
	if err != nil {
		return nil, nil, err
	}
	res := v.(resolved)
	im := *res.im
	im.Platforms = append([]PlatformImage(nil), im.Platforms...)
	return &im, res.top, nil
}

// ResolveAll resolves every request concurrently (bounded by WithConcurrency) and returns
// the images in request order. Every failure is reported, joined, not only the first.
func (r *Resolver) ResolveAll(ctx context.Context, reqs []ImageRequest) ([]Image, error) {
	out := make([]Image, len(reqs))
	errs := make([]error, len(reqs))
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			im, err := r.Resolve(ctx, req.Ref, req.Platforms)
			if err != nil {
				errs[i] = err
				return
			}
			out[i] = *im
		}()
	}
	wg.Wait()
	return out, joinErrors(errs)
}

// topContent is what a reference points to (an index, or a single-platform manifest):
// its descriptor and, once read, its bytes.
type topContent struct {
	desc ocispec.Descriptor
	data []byte // nil until read
}

// resolved is one resolution's result, shared by the callers singleflight joins.
type resolved struct {
	im  *Image
	top *topContent
}

// attemptState is what one reference's resolution remembers across attempts, so that a
// retry resumes where the last attempt failed instead of starting over.
type attemptState struct {
	top map[*hostEntry]topContent
	// known is a digest reference's content, read and verified before this resolution:
	// the same on every host.
	known *topContent
}

func (r *Resolver) resolve(ctx context.Context, ref string, platforms []string, known *topContent) (resolved, error) {
	st := &attemptState{top: map[*hostEntry]topContent{}, known: known}
	var out resolved
	err := r.onHosts(ctx, ref, r.opts.timeout, func(ctx context.Context, h *hostEntry) error {
		im, top, err := r.fetchImage(ctx, h, ref, platforms, st)
		out = resolved{im: im, top: top}
		return err
	})
	if err != nil {
		var pe *platformError
		if errors.As(err, &pe) && pe.mislabel != nil {
			return resolved{}, WithHint(err, "the index lists a manifest under a platform its config does not say: pin another tag or digest of "+ref+", or ask its publisher to fix the index")
		}
		return resolved{}, err
	}
	r.opts.logf("%s: resolved to %s", ref, out.im.Digest)
	return out, nil
}

// quietLog discards containerd's log lines: they repeat what the final error says, and
// name URLs archc prefers to redact itself.
var quietLog = func() *log.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}()

// downMirror is a mirror given up on for the run.
type downMirror struct{ label, why string }

// isDown says why h was given up on for the run, or "".
func (r *Resolver) isDown(h *hostEntry) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.down[h.key].why
}

// markDown skips mirror h for the rest of the run.
func (r *Resolver) markDown(h *hostEntry, why string) {
	if !h.mirror {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.down[h.key]; !ok {
		r.down[h.key] = downMirror{label: h.label, why: why}
	}
}

// Skipped lists the mirrors this run gave up on, each with why, sorted: the run's summary
// names them again.
func (r *Resolver) Skipped() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.down))
	for _, d := range r.down {
		out = append(out, "mirror "+d.label+": "+d.why)
	}
	sort.Strings(out)
	return out
}

// timedOut records that ref timed out on h; a mirror on which downAfter different
// references timed out is skipped for the rest of the run.
func (r *Resolver) timedOut(h *hostEntry, ref string) {
	if !h.mirror {
		return
	}
	r.mu.Lock()
	refs := r.timeouts[h.key]
	if refs == nil {
		refs = map[string]bool{}
		r.timeouts[h.key] = refs
	}
	refs[ref] = true
	n := len(refs)
	r.mu.Unlock()
	if n >= downAfter {
		r.markDown(h, fmt.Sprintf("timed out for %d images earlier in this run", n))
	}
}

// fail builds the final error for ref.
func (r *Resolver) fail(ref string, results []*HostError) error {
	e := &ResolveError{Ref: ref, Hosts: results}
	e.hint = hintFor(ref, results)
	return e
}

// UpstreamHost is the host that serves registry domain (docker.io's is registry-1.docker.io).
func UpstreamHost(domain string) string {
	if domain == "docker.io" {
		return "registry-1.docker.io"
	}
	return domain
}

// attempt runs op against one host once. It returns nil, or the classified failure.
func (r *Resolver) attempt(ctx context.Context, h *hostEntry, op func(context.Context, *hostEntry) error) *outcome {
	err := op(log.WithLogger(ctx, quietLog), h) // containerd's own per-host chatter; archc reports
	if err == nil {
		return nil
	}
	// Each request had the attempt timeout to answer (retryTransport); ctx is the
	// reference's deadline.
	o := classify(err, ctx, ctx, 0)
	if fh := failedHost(err); fh != "" && fh != h.host.Host && o.class != ClassCanceled {
		// The registry sent us to its token realm and that request failed: say so, since
		// "no such host" for a mirror that answered is otherwise a riddle.
		o.tokenServer = fh
		o.msg = "token server " + fh + ": " + o.msg
	}
	return &o
}

// fetchImage resolves ref on one host: GET the tag (unless the digest is known), which
// caches the index, then each platform's manifest and config, all through the cache. It
// hands back the index (or single manifest) it read, for the caller and the next attempt.
func (r *Resolver) fetchImage(ctx context.Context, h *hostEntry, ref string, platforms []string, st *attemptState) (*Image, *topContent, error) {
	res := docker.NewResolver(docker.ResolverOptions{
		Hosts: func(string) ([]docker.RegistryHost, error) { return []docker.RegistryHost{h.host}, nil },
	})
	content, ok := st.top[h]
	switch {
	case ok:
	case st.known != nil:
		content = *st.known
	default:
		var err error
		if content, err = r.resolveTop(ctx, res, ref); err != nil {
			return nil, nil, err
		}
	}
	st.top[h] = content
	f := &fetcher{res: res, ref: ref, cache: r.cache}
	if content.data == nil {
		data, err := f.fetch(ctx, content.desc)
		if err != nil {
			return nil, nil, err
		}
		content.data = data
		st.top[h] = content
	}
	top, topData := content.desc, content.data
	im := &Image{Ref: ref, Digest: top.Digest, Host: h.host.Host}
	im.Platforms = make([]PlatformImage, len(platforms))
	// Platforms do not cancel each other: what one fetched before another failed stays in
	// the cache, and the next attempt only asks for what is missing.
	// The error reported is the first platform's in the order asked, whichever failed first.
	var g errgroup.Group
	errs := make([]error, len(platforms))
	for i, p := range platforms {
		g.Go(func() error {
			pi, err := f.platform(ctx, top, topData, p)
			if err != nil {
				errs[i] = err
				return nil
			}
			im.Platforms[i] = *pi
			return nil
		})
	}
	_ = g.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, nil, err
		}
	}
	sort.Slice(im.Platforms, func(i, j int) bool { return im.Platforms[i].Platform < im.Platforms[j].Platform })
	return im, &content, nil
}

// resolveTop finds what ref points to. A digest reference whose content is cached needs
// no request, and comes with the content it was read from; otherwise data is nil.
func (r *Resolver) resolveTop(ctx context.Context, res interface {
	Resolve(context.Context, string) (string, ocispec.Descriptor, error)
}, ref string) (topContent, error) {
	if d := refDigest(ref); d != "" {
		if data, err := r.cache.Get(d); err == nil {
			return topContent{desc: ocispec.Descriptor{Digest: d, Size: int64(len(data)), MediaType: sniffMediaType(data)}, data: data}, nil
		}
	}
	_, desc, err := res.Resolve(ctx, ref)
	return topContent{desc: desc}, err
}

func refDigest(ref string) digest.Digest {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return ""
	}
	if c, ok := n.(reference.Canonical); ok {
		return c.Digest()
	}
	return ""
}

// joinErrors joins the non-nil errors, or returns nil.
func joinErrors(errs []error) error {
	var out []error
	for _, e := range errs {
		if e != nil {
			out = append(out, e)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		return out[0]
	}
	return &multiError{errs: out}
}

// multiError prints one error per paragraph.
type multiError struct{ errs []error }

func (m *multiError) Error() string {
	parts := make([]string, len(m.errs))
	for i, e := range m.errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

func (m *multiError) Unwrap() []error { return m.errs }
