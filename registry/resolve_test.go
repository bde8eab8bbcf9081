package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var both = []string{"linux/amd64", "linux/arm64"}

// loopbackOnly dials loopback addresses and answers every other name as a DNS miss, so no
// test ever leaves 127.0.0.0/8 or waits on real DNS.
func loopbackOnly(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}
	return (&net.Dialer{}).DialContext(ctx, network, addr)
}

// seeded is a loopback docker-registry holding library/busybox:1.36 (amd64 + arm64).
type seeded struct {
	reg *testenv.Registry
	img testenv.Image
}

func seedRegistry(t *testing.T, repos ...string) *seeded {
	t.Helper()
	reg := testenv.StartRegistry(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	s := &seeded{reg: reg}
	for i, repo := range append([]string{"library/busybox"}, repos...) {
		content, err := testenv.TinyContent(repo, both...)
		require.NoError(t, err)
		img, err := content.Push(ctx, reg.URL, repo, "1.36")
		require.NoError(t, err)
		if i == 0 {
			s.img = img
		}
	}
	return s
}

// mirrorSpec names mirror URLs as docker.io mirrors.
// hedged is how many requests a read sends to a host that never answers: the request and
// its hedge (retryTransport.hedged).
const hedged = 2

func mirrorSpec(mirrorsOnly bool, mirrors ...string) *spec.Spec {
	return &spec.Spec{Registries: []spec.Registry{{Host: "docker.io", Mirrors: mirrors, MirrorsOnly: mirrorsOnly}}}
}

// withBackoff shortens the retry delays so the fault tests take milliseconds, not seconds;
// archc itself always uses the defaults.
func withBackoff(base, maxDelay time.Duration) Option {
	return func(o *options) error {
		o.backoffBase, o.backoffMax = base, maxDelay
		return nil
	}
}

func newTestResolver(t *testing.T, s *spec.Spec, opts ...Option) *Resolver {
	t.Helper()
	cache, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	opts = append([]Option{WithDialContext(loopbackOnly), withBackoff(20*time.Millisecond, 200*time.Millisecond)}, opts...)
	r, err := NewResolver(s, cache, opts...)
	require.NoError(t, err)
	return r
}

func TestResolveThroughMirror(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	fp := testenv.StartFaultProxy(t, sd.reg.URL)
	s := mirrorSpec(true, fp.URL)
	r := newTestResolver(t, s)

	im, err := r.Resolve(context.Background(), "busybox:1.36", both)
	require.NoError(t, err)
	assert.Equal(t, "docker.io/library/busybox:1.36", im.Ref)
	assert.Equal(t, sd.img.Index, im.Digest)
	assert.Equal(t, fp.Host, im.Host)
	require.Len(t, im.Platforms, 2)
	for _, p := range im.Platforms {
		want := sd.img.Platforms[p.Platform]
		assert.Equal(t, want.Manifest, p.Manifest, p.Platform)
		assert.Equal(t, want.Config, p.Config, p.Platform)
		cfg, err := r.Cache().Get(p.Config)
		require.NoError(t, err, "config is cached for the compiler")
		assert.Contains(t, string(cfg), strings.TrimPrefix(p.Platform, "linux/"))
	}
	// GET the tag (the index, cached from that answer), then a manifest and a config per
	// platform; containerd's HEAD became that GET, so no HEAD reaches the wire.
	assert.Equal(t, 5, fp.Count("/v2/"))
	assert.EqualValues(t, 5, r.Requests())
	for _, req := range fp.Requests() {
		assert.Equal(t, http.MethodGet, req.Method, req.Path)
	}

	// Same cache, new run: only the tag is asked again.
	fp.ResetLog()
	r2, err := NewResolver(s, r.Cache(), WithDialContext(loopbackOnly))
	require.NoError(t, err)
	again, err := r2.Resolve(context.Background(), "docker.io/library/busybox:1.36", both)
	require.NoError(t, err)
	assert.Equal(t, im, again)
	assert.Equal(t, 1, fp.Count("/v2/"))

	// A platform the image does not have is not found, and not retried.
	_, err = r2.Resolve(context.Background(), "busybox:1.36", []string{"linux/s390x"})
	var re *ResolveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ClassNotFound, re.Class())
	assert.Contains(t, err.Error(), "no linux/s390x image")
	assert.Equal(t, 1, re.Hosts[0].Attempts)
}

// With the index cached and no platform's manifest, the platforms fetch concurrently and
// share one fetcher (run with -race).
func TestResolveCachedIndexFetchesPlatformsConcurrently(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	r := newTestResolver(t, mirrorSpec(true, sd.reg.URL))
	_, err := r.Resolve(context.Background(), "busybox:1.36", []string{"linux/s390x"})
	require.Error(t, err, "caches the index, no manifest")
	r2 := newTestResolver(t, mirrorSpec(true, sd.reg.URL))
	r2.cache = r.Cache()
	im, err := r2.Resolve(context.Background(), "busybox:1.36", both)
	require.NoError(t, err)
	assert.Equal(t, sd.img.Index, im.Digest)
	assert.Len(t, im.Platforms, 2)
}

func TestResolveFaults(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	tests := []struct {
		name        string
		fault       testenv.Fault
		mirrorsOnly bool
		opts        []Option
		wantErr     bool
		class       Class
		text        []string // substrings of the error
		minAttempts int
		maxAttempts int
		maxTime     time.Duration
		platforms   []string // default both
		minRequests int      // requests the mirror saw, for the cases that succeed
		maxRequests int
		retries     int // "retrying in" log lines, for the cases that succeed
	}{
		// One platform makes the requests strictly sequential: tag, manifest, config (the
		// 3rd, 503), then only the config again, since the attempt resumes from the cache.
		{name: "503 every 3rd request is retried", fault: testenv.FailEveryN(3, http.StatusServiceUnavailable), mirrorsOnly: true,
			platforms: []string{"linux/arm64"}, minRequests: 4, maxRequests: 4, retries: 1},
		// With two platforms fetched in parallel, which request is the 3rd, and whether the
		// other platform's request was on the wire when the 503 cancels it, depends on
		// scheduling, so only a bound holds: 5 requests succeed for good (each is cached);
		// of every 3 requests 1 is a 503 and at most 1 more is the other platform's,
		// cancelled; the rest are among the 5. So 6 ≤ requests ≤ 3×5.
		{name: "503 every 3rd request, two platforms", fault: testenv.FailEveryN(3, http.StatusServiceUnavailable), mirrorsOnly: true,
			minRequests: 6, maxRequests: 15},
		// The first request (the tag) is alone on the wire: 429, wait 1s, then the 5 requests.
		{name: "one 429 with Retry-After is waited out", fault: testenv.TooMany(time.Second).FirstK(1), mirrorsOnly: true,
			minRequests: 6, maxRequests: 6, retries: 1},
		{name: "429 for ever gives up in time", fault: testenv.TooMany(time.Second), mirrorsOnly: true,
			opts: []Option{WithTimeout(3 * time.Second)}, wantErr: true, class: ClassTransient,
			text: []string{"HTTP 429 Too Many Requests (retry after 1s)", "attempts"}, minAttempts: 2, maxAttempts: 4, maxTime: 20 * time.Second},
		{name: "reset is transient", fault: testenv.Reset(), mirrorsOnly: true, opts: []Option{WithTimeout(2 * time.Second)},
			wantErr: true, class: ClassTransient, text: []string{"connection reset"}, minAttempts: 2, maxAttempts: 100, maxTime: 20 * time.Second},
		// The only host of a mirrors_only registry gets a second chance after a timeout
		// (lastHostTimeouts), never a wait until the deadline.
		{name: "blackhole times out per attempt", fault: testenv.Blackhole(), mirrorsOnly: true,
			opts:    []Option{WithAttemptTimeout(300 * time.Millisecond), WithTimeout(5 * time.Second)},
			wantErr: true, class: ClassTimeout, text: []string{"timed out after 300ms"}, minAttempts: 2, maxAttempts: 2, maxTime: 3 * time.Second},
		{name: "401 is not retried", fault: testenv.Status(http.StatusUnauthorized, nil), mirrorsOnly: true,
			wantErr: true, class: ClassAuth, text: []string{"401", "hint: log in"}, minAttempts: 1, maxAttempts: 1, maxTime: 20 * time.Second},
		{name: "403 is not retried", fault: testenv.Status(http.StatusForbidden, nil), mirrorsOnly: true,
			wantErr: true, class: ClassAuth, text: []string{"403"}, minAttempts: 1, maxAttempts: 1, maxTime: 20 * time.Second},
		{name: "404 is not retried", fault: testenv.Status(http.StatusNotFound, nil), mirrorsOnly: true,
			wantErr: true, class: ClassNotFound, text: []string{"not found"}, minAttempts: 1, maxAttempts: 1, maxTime: 20 * time.Second},
		{name: "fallback to docker.io fails cleanly", fault: testenv.Status(http.StatusNotFound, nil),
			wantErr: true, class: ClassNotFound, text: []string{"; registry-1.docker.io: no such host (DNS)", "hint: "},
			minAttempts: 1, maxAttempts: 1, maxTime: 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fp := testenv.StartFaultProxy(t, sd.reg.URL)
			fp.Set(tt.fault)
			var retries atomic.Int32
			logf := WithLogf(func(f string, _ ...any) {
				if strings.Contains(f, "retrying in") {
					retries.Add(1)
				}
			})
			r := newTestResolver(t, mirrorSpec(tt.mirrorsOnly, fp.URL), append(tt.opts, logf)...)
			platforms := both
			if tt.platforms != nil {
				platforms = tt.platforms
			}
			start := time.Now()
			im, err := r.Resolve(context.Background(), "busybox:1.36", platforms)
			took := time.Since(start)
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, sd.img.Index, im.Digest)
				assert.GreaterOrEqual(t, fp.Count("/v2/"), tt.minRequests, "requests")
				assert.LessOrEqual(t, fp.Count("/v2/"), tt.maxRequests, "requests")
				if tt.retries > 0 { // the sequential cases: exact
					assert.EqualValues(t, tt.retries, retries.Load(), "retries")
					assert.EqualValues(t, fp.Count("/v2/"), r.Requests(), "every request counted")
				}
				return
			}
			require.Error(t, err)
			assert.Less(t, took, tt.maxTime, "bounded")
			var re *ResolveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, "docker.io/library/busybox:1.36", re.Ref)
			assert.Equal(t, tt.class, re.Class())
			mirror := re.Hosts[0]
			assert.True(t, mirror.Mirror)
			assert.Equal(t, fp.URL, mirror.Host)
			assert.GreaterOrEqual(t, mirror.Attempts, tt.minAttempts)
			assert.LessOrEqual(t, mirror.Attempts, tt.maxAttempts)
			assert.True(t, strings.HasPrefix(err.Error(), "docker.io/library/busybox:1.36: mirror "+fp.URL+": "), err.Error())
			for _, s := range tt.text {
				assert.Contains(t, errAndHint(err), s)
			}
			var he *HostError
			require.True(t, errors.As(err, &he))
			if !tt.mirrorsOnly {
				require.Len(t, re.Hosts, 2)
				assert.Equal(t, ClassDNS, re.Hosts[1].Class)
			}
		})
	}
}

// TestResolveBlackholedMirrorFallsThrough: a mirror that hangs costs each reference one
// attempt, then the next host answers; once two different images timed out on it, the
// rest of the run skips it instead of waiting on it again.
func TestResolveBlackholedMirrorFallsThrough(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t, "library/alpine")
	dead := testenv.StartFaultProxy(t, sd.reg.URL)
	dead.Set(testenv.Blackhole())
	good := testenv.StartFaultProxy(t, sd.reg.URL)
	var logged syncLog
	r := newTestResolver(t, mirrorSpec(true, dead.URL, good.URL), WithAttemptTimeout(time.Second), WithLogf(logged.logf))
	ctx := context.Background()
	im, err := r.Resolve(ctx, "busybox:1.36", both)
	require.NoError(t, err)
	assert.Equal(t, good.Host, im.Host)
	assert.Equal(t, hedged, dead.Count("/v2/"), "one attempt (and its hedge), then the next mirror")

	// One timeout is not enough to give up on a mirror: the next image tries it again.
	_, err = r.Resolve(ctx, "alpine:1.36", both)
	require.NoError(t, err)
	assert.Equal(t, 2*hedged, dead.Count("/v2/"))
	assert.NotContains(t, logged.String(), "skipped")

	// Two images timed out on it: later references skip it.
	_, err = r.Resolve(ctx, "busybox:1.36", []string{"linux/amd64"})
	require.NoError(t, err)
	assert.Equal(t, 2*hedged, dead.Count("/v2/"))
	assert.Contains(t, logged.String(), "mirror "+dead.URL+": skipped: timed out for 2 images earlier in this run")
}

// TestResolveUpstreamNeverSkipped: without a mirror, the registry is the last resort: one
// that timed out for two images (twice each: the last host left gets a second chance) is
// still tried for the third.
func TestResolveUpstreamNeverSkipped(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t, "library/alpine", "library/debian")
	slow := testenv.StartFaultProxy(t, sd.reg.URL)
	slow.Set(testenv.Blackhole().FirstK(2 * lastHostTimeouts * hedged))
	s := &spec.Spec{Registries: []spec.Registry{{Host: slow.Host, HTTP: true}}}
	r := newTestResolver(t, s, WithAttemptTimeout(time.Second))
	ctx := context.Background()
	for _, repo := range []string{"busybox", "alpine"} {
		_, err := r.Resolve(ctx, slow.Host+"/library/"+repo+":1.36", both)
		var re *ResolveError
		require.ErrorAs(t, err, &re, repo)
		assert.Equal(t, ClassTimeout, re.Hosts[0].Class, repo)
	}
	im, err := r.Resolve(ctx, slow.Host+"/library/debian:1.36", both)
	require.NoError(t, err, "the registry itself is never skipped")
	assert.Equal(t, slow.Host, im.Host)
}

// syncLog collects WithLogf lines from concurrent resolutions.
type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) logf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(&l.b, format+"\n", a...)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A mirror that timed out is not tried again on the next rounds for the same reference:
// the retries go to the hosts that failed transiently, and the final error still names it.
func TestResolveTimedOutHostNotRetried(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	tests := []struct {
		name    string
		flaky   testenv.Fault
		wantErr bool
	}{
		{name: "next host recovers", flaky: testenv.Status(http.StatusServiceUnavailable, nil).FirstK(2)},
		{name: "next host keeps failing", flaky: testenv.Status(http.StatusServiceUnavailable, nil), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dead := testenv.StartFaultProxy(t, sd.reg.URL)
			dead.Set(testenv.Blackhole())
			flaky := testenv.StartFaultProxy(t, sd.reg.URL)
			flaky.Set(tt.flaky)
			var skips atomic.Int32
			r := newTestResolver(t, mirrorSpec(true, dead.URL, flaky.URL),
				// 1 s per attempt: a loaded -race runner must not time out the healthy host.
				WithAttemptTimeout(time.Second), WithTimeout(6*time.Second),
				WithLogf(func(f string, a ...any) {
					if strings.Contains(fmt.Sprintf(f, a...), "skipped") {
						skips.Add(1)
					}
				}))
			im, err := r.Resolve(context.Background(), "busybox:1.36", both)
			assert.Equal(t, hedged, dead.Count("/v2/"), "the blackhole is waited on once (asked twice: hedged)")
			assert.GreaterOrEqual(t, flaky.Count("/v2/"), 3, "the next host got the retries")
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, flaky.Host, im.Host)
				return
			}
			var re *ResolveError
			require.ErrorAs(t, err, &re)
			require.Len(t, re.Hosts, 2)
			assert.Equal(t, ClassTimeout, re.Hosts[0].Class)
			assert.Equal(t, 1, re.Hosts[0].Attempts)
			assert.GreaterOrEqual(t, re.Hosts[1].Attempts, 2)
			assert.Contains(t, err.Error(), "mirror "+dead.URL+": timed out after 1s; mirror "+flaky.URL+": ")
			assert.Zero(t, skips.Load(), "a host that already failed here keeps its own cause")
		})
	}
}

func TestResolveThroughAuthenticatedProxy(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	const secret = "pr0xy-s3cret"
	px := testenv.StartHTTPProxy(t, testenv.WithProxyAuth("alice", secret), testenv.WithHostOverride("registry.invalid:80", sd.reg.Host))
	s := &spec.Spec{
		Proxy:      &spec.Proxy{HTTPProxy: px.URLWithAuth(), HTTPSProxy: px.URLWithAuth(), NoProxy: []string{"localhost"}},
		Registries: []spec.Registry{{Host: "registry.invalid", HTTP: true}},
	}
	var logged strings.Builder
	r := newTestResolver(t, s, WithLogf(func(f string, a ...any) { logged.WriteString(f) }))
	im, err := r.Resolve(context.Background(), "registry.invalid/library/busybox:1.36", both)
	require.NoError(t, err)
	assert.Equal(t, sd.img.Index, im.Digest)
	assert.Equal(t, "registry.invalid", im.Host)
	assert.Positive(t, px.Forwarded("registry.invalid:80"), "went through the proxy")
	lock := &Lock{}
	lock.Set(*im)
	assert.NotContains(t, string(lock.Bytes()), secret)

	// Wrong password: the error says so without the password.
	s.Proxy.HTTPProxy = strings.Replace(px.URLWithAuth(), secret, secret+"-wrong", 1)
	r = newTestResolver(t, s, WithLogf(func(f string, a ...any) {
		logged.WriteString(Redact(strings.Join([]string{f}, "")))
	}))
	_, err = r.Resolve(context.Background(), "registry.invalid/library/busybox:1.37", both)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "407")
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, logged.String(), secret)
}
