package registry

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/stretchr/testify/require"
)

// BenchmarkResolve50x2 resolves 50 distinct references × 2 platforms through a mirror that
// adds 20 ms to every request, with archc's resolver (concurrent, index fetched once) and
// with a sequential baseline that resolves each platform on its own with nothing cached.
// Run: go test ./registry -run '^$' -bench Resolve50x2 -benchtime 1x
func BenchmarkResolve50x2(b *testing.B) {
	reg := testenv.StartRegistry(b)
	ctx := context.Background()
	var reqs []ImageRequest
	for i := range 50 {
		repo := fmt.Sprintf("library/bench%02d", i)
		content, err := testenv.TinyContent(repo, both...)
		require.NoError(b, err)
		_, err = content.Push(ctx, reg.URL, repo, "1")
		require.NoError(b, err)
		reqs = append(reqs, ImageRequest{Ref: "docker.io/" + repo + ":1", Platforms: both})
	}
	fp := testenv.StartFaultProxy(b, reg.URL)
	fp.Set(testenv.Slow(20 * time.Millisecond))
	s := mirrorSpec(true, fp.URL)
	var dials atomic.Int64 // TCP connections opened: shows keep-alive reuse
	countingDial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return loopbackOnly(ctx, network, addr)
	}
	newResolver := func(opts ...Option) *Resolver {
		cache, err := OpenCache(b.TempDir())
		require.NoError(b, err)
		r, err := NewResolver(s, cache, append([]Option{WithDialContext(countingDial)}, opts...)...)
		require.NoError(b, err)
		return r
	}
	var fast, slow time.Duration
	var fastReq, slowReq int
	var kinds map[string]int
	b.ResetTimer()
	for range b.N {
		fp.ResetLog()
		dials.Store(0)
		r := newResolver(WithConcurrency(*benchConcurrency))
		start := time.Now()
		_, err := r.ResolveAll(ctx, reqs)
		fast += time.Since(start)
		require.NoError(b, err)
		fastReq += fp.Count("/v2/")
		kinds = requestKinds(fp.Requests())
		kinds["dials"] = int(dials.Load())

		fp.ResetLog()
		start = time.Now()
		for _, req := range reqs {
			for _, p := range req.Platforms {
				_, err := newResolver(WithConcurrency(1)).Resolve(ctx, req.Ref, []string{p})
				require.NoError(b, err)
			}
		}
		slow += time.Since(start)
		slowReq += fp.Count("/v2/")
	}
	n := float64(b.N)
	b.ReportMetric(float64(fast.Milliseconds())/n, "archc-ms")
	b.ReportMetric(float64(slow.Milliseconds())/n, "baseline-ms")
	b.ReportMetric(float64(slow)/float64(fast), "speedup-x")
	b.ReportMetric(float64(fastReq)/n, "archc-requests")
	b.ReportMetric(float64(slowReq)/n, "baseline-requests")
	refPlatforms := float64(len(reqs) * 2)
	b.ReportMetric(float64(fastReq)/n/refPlatforms, "requests/ref-platform")
	// The target: at most one index request per reference, one config request per
	// reference and platform (the platform's manifest is the one more request it needs).
	b.ReportMetric(float64(kinds["tag"])/float64(len(reqs)), "index-requests/ref")
	b.ReportMetric(float64(kinds["manifest"])/refPlatforms, "manifest-requests/ref-platform")
	b.ReportMetric(float64(kinds["blob"])/refPlatforms, "config-requests/ref-platform")
	b.ReportMetric(float64(kinds["HEAD"]), "HEAD-requests")
	b.ReportMetric(float64(kinds["dials"]), "archc-connections")
}

// requestKinds counts the last archc run's requests: by tag (the index), manifest by
// digest, blob (config), and HEADs of any kind.
func requestKinds(log []testenv.ProxyRequest) map[string]int {
	out := map[string]int{}
	for _, r := range log {
		switch {
		case r.Method == http.MethodHead:
			out["HEAD"]++
		case strings.Contains(r.Path, "/blobs/"):
			out["blob"]++
		case strings.Contains(r.Path, "/manifests/sha256:"):
			out["manifest"]++
		case strings.Contains(r.Path, "/manifests/"):
			out["tag"]++
		}
	}
	return out
}

// benchConcurrency is archc's side of the benchmark, to compare settings without editing.
var benchConcurrency = flag.Int("bench-concurrency", DefaultConcurrency, "references BenchmarkResolve50x2 resolves at once")
