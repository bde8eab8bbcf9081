package registry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestFetchBasesThroughFaults: every third request to the mirror fails, yet each base's
// manifest, config and layers end up in the cache, verified; the failed requests were
// sent again (counted at the fault proxy), not the whole image.
func TestFetchBasesThroughFaults(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	fp := testenv.StartFaultProxy(t, sd.reg.URL)
	fp.Set(testenv.FailEveryN(3, 503))
	r := newTestResolver(t, mirrorSpec(true, fp.URL))
	var bases []BaseContent
	for _, pi := range sd.img.Platforms {
		bases = append(bases, BaseContent{Ref: "docker.io/library/busybox:1.36", Manifest: pi.Manifest})
	}
	require.NoError(t, r.FetchBases(context.Background(), bases))
	for p, pi := range sd.img.Platforms {
		for _, d := range append([]digest.Digest{pi.Manifest, pi.Config}, pi.Layers...) {
			_, err := r.Cache().Get(d)
			require.NoError(t, err, "%s: %s", p, d)
		}
	}
	faulted := 0
	for _, req := range fp.Requests() {
		if req.Status == 503 {
			faulted++
		}
	}
	require.Positive(t, faulted, "the faults were hit")
	assert.Equal(t, int64(fp.Count("/v2/")), r.Requests(), "each retry went to the wire")

	// A second call needs nothing: all of it is cached.
	before := fp.Count("")
	require.NoError(t, r.FetchBases(context.Background(), bases))
	assert.Equal(t, before, fp.Count(""))
}

// TestFetchBasesMirrorsOnlyNeverUpstream: with mirrors_only, a dead mirror fails the
// download naming it; no other host is tried.
func TestFetchBasesMirrorsOnlyNeverUpstream(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	fp := testenv.StartFaultProxy(t, sd.reg.URL)
	fp.Set(testenv.Status(503, nil))
	r := newTestResolver(t, mirrorSpec(true, fp.URL), WithTimeout(2*time.Second))
	pi := sd.img.Platforms["linux/amd64"]
	err := r.FetchBases(context.Background(), []BaseContent{{Ref: "docker.io/library/busybox:1.36", Manifest: pi.Manifest}})
	var re *ResolveError
	require.ErrorAs(t, err, &re)
	require.Len(t, re.Hosts, 1, "only the mirror")
	assert.Equal(t, fp.URL, re.Hosts[0].Host)
	assert.Contains(t, err.Error(), "HTTP 503")
	assert.Greater(t, re.Hosts[0].Attempts, 1, "retried per request")
}

// cutReader returns n bytes of data from off, then fails as a connection cut mid-body.
type cutReader struct {
	r io.Reader
}

func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// TestIngestResumes: a body cut off mid-way is resumed from where it stopped, in the same
// call and in a later one (the partial file is kept), and only verified content enters
// the cache.
func TestIngestResumes(t *testing.T) {
	t.Parallel()
	c, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	data := bytes.Repeat([]byte("archc layer "), 100_000)
	desc := ocispec.Descriptor{Digest: digest.FromBytes(data), Size: int64(len(data))}

	var mu sync.Mutex
	var offsets []int64
	cut := func(from, to int64) func(int64) (io.ReadCloser, error) {
		return func(off int64) (io.ReadCloser, error) {
			mu.Lock()
			offsets = append(offsets, off)
			mu.Unlock()
			end := min(to, int64(len(data)))
			if off >= end {
				return io.NopCloser(&cutReader{r: bytes.NewReader(nil)}), nil
			}
			if end == int64(len(data)) {
				return io.NopCloser(bytes.NewReader(data[off:])), nil
			}
			return io.NopCloser(&cutReader{r: bytes.NewReader(data[off:end])}), nil
		}
	}
	// A later run resumes what an earlier one left: the first call gets only the first
	// third before its source stops answering for good.
	ctx, cancel := context.WithCancel(context.Background())
	first := 0
	err = c.ingest(ctx, desc, func(off int64) (io.ReadCloser, error) {
		first++
		if first > 1 {
			cancel()
			return nil, context.Canceled
		}
		return cut(0, int64(len(data)/3))(off)
	})
	require.Error(t, err)
	assert.False(t, c.Has(desc.Digest), "nothing unverified in the cache")

	offsets = nil
	var calls int
	err = c.ingest(context.Background(), desc, func(off int64) (io.ReadCloser, error) {
		calls++
		if calls == 1 {
			return cut(0, 2*int64(len(data)/3))(off) // cut again at two thirds
		}
		return cut(0, int64(len(data)))(off)
	})
	require.NoError(t, err)
	assert.Equal(t, []int64{int64(len(data) / 3), 2 * int64(len(data)/3)}, offsets, "each request starts where the last one stopped")
	got, err := os.ReadFile(c.path(desc.Digest))
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got))
	left, _ := os.ReadDir(filepath.Join(c.Dir(), "partial"))
	assert.Empty(t, left, "no partial file left")
}

// TestIngestRejectsWrongContent: content that does not hash to its digest never enters
// the cache, and the next attempt starts over.
func TestIngestRejectsWrongContent(t *testing.T) {
	t.Parallel()
	c, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	data := []byte(strings.Repeat("x", 1000))
	desc := ocispec.Descriptor{Digest: digest.FromString("something else"), Size: int64(len(data))}
	err = c.ingest(context.Background(), desc, func(int64) (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
	var me *malformedError
	require.ErrorAs(t, err, &me)
	assert.False(t, c.Has(desc.Digest))
	fi, err := os.Stat(filepath.Join(c.Dir(), "partial", "sha256-"+desc.Digest.Encoded()))
	require.NoError(t, err)
	assert.Zero(t, fi.Size(), "the bad bytes are dropped")
}
