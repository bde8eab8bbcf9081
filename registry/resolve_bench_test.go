package registry

import (
	"context"
	"fmt"
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
	newResolver := func(opts ...Option) *Resolver {
		cache, err := OpenCache(b.TempDir())
		require.NoError(b, err)
		r, err := NewResolver(s, cache, append([]Option{WithDialContext(loopbackOnly)}, opts...)...)
		require.NoError(b, err)
		return r
	}
	var fast, slow time.Duration
	var fastReq, slowReq int
	b.ResetTimer()
	for range b.N {
		fp.ResetLog()
		r := newResolver(WithConcurrency(benchConcurrency))
		start := time.Now()
		_, err := r.ResolveAll(ctx, reqs)
		fast += time.Since(start)
		require.NoError(b, err)
		fastReq += fp.Count("/v2/")

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
	b.ReportMetric(float64(fastReq)/n/float64(len(reqs)*2), "requests/ref-platform")
}

// benchConcurrency is archc's side of the benchmark: DefaultConcurrency unless changed here.
var benchConcurrency = DefaultConcurrency
