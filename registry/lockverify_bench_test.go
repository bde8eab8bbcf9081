package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BenchmarkVerifyLockWarm: what VerifyLock adds to a plan with a complete lock and a warm
// cache (no request), per image of two platforms.
func BenchmarkVerifyLockWarm(b *testing.B) {
	for _, n := range []int{1, 20} {
		b.Run(fmt.Sprintf("images=%d", n), func(b *testing.B) {
			r := newBenchResolver(b)
			lock, reqs := warmPins(b, r.Cache(), n)
			b.ResetTimer()
			for range b.N {
				if err := r.VerifyLock(context.Background(), lock, reqs); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			require.Zero(b, r.Requests())
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/image")
		})
	}
}

func newBenchResolver(b *testing.B) *Resolver {
	cache, err := OpenCache(b.TempDir())
	require.NoError(b, err)
	r, err := NewResolver(mirrorSpec(true, "http://127.0.0.1:1"), cache, WithDialContext(loopbackOnly))
	require.NoError(b, err)
	return r
}

// warmPins caches n two-platform images (index, manifests, configs) and pins them.
func warmPins(b testing.TB, cache *Cache, n int) (*Lock, []ImageRequest) {
	put := func(v any) ocispec.Descriptor {
		data, err := json.Marshal(v)
		require.NoError(b, err)
		d := digest.FromBytes(data)
		require.NoError(b, cache.Put(d, data))
		return ocispec.Descriptor{Digest: d, Size: int64(len(data))}
	}
	lock := &Lock{}
	var reqs []ImageRequest
	for i := range n {
		ref := fmt.Sprintf("docker.io/library/img%d:1", i)
		idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
		im := Image{Ref: ref, Host: "h"}
		for _, arch := range []string{"amd64", "arm64"} {
			cfg := put(ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: arch}, Author: ref})
			cfg.MediaType = ocispec.MediaTypeImageConfig
			m := put(ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg})
			m.MediaType = ocispec.MediaTypeImageManifest
			m.Platform = &ocispec.Platform{OS: "linux", Architecture: arch}
			idx.Manifests = append(idx.Manifests, m)
			im.Platforms = append(im.Platforms, PlatformImage{Platform: "linux/" + arch, Manifest: m.Digest, Config: cfg.Digest})
		}
		im.Digest = put(idx).Digest
		lock.Set(im)
		reqs = append(reqs, ImageRequest{Ref: ref, Platforms: both})
	}
	return lock, reqs
}
