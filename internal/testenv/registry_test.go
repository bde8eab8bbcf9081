package testenv

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get fetches a registry path and returns the body, asserting status 200.
func get(t *testing.T, url, accept string) ([]byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", url, body)
	return body, resp.Header
}

func TestPushBusyboxRoundTrip(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t)
	img := PushBusybox(t, reg, "library/busybox", "1.36")
	assert.Equal(t, reg.Host+"/library/busybox:1.36", img.Ref)

	body, hdr := get(t, reg.URL+"/v2/library/busybox/manifests/1.36", ocispec.MediaTypeImageIndex)
	assert.Equal(t, img.Index, digest.FromBytes(body), "tag resolves to the pushed index")
	assert.Equal(t, img.Index.String(), hdr.Get("Docker-Content-Digest"))

	var idx ocispec.Index
	require.NoError(t, json.Unmarshal(body, &idx))
	require.Len(t, idx.Manifests, 2)
	got := map[string]digest.Digest{}
	for _, m := range idx.Manifests {
		require.NotNil(t, m.Platform)
		got[m.Platform.OS+"/"+m.Platform.Architecture] = m.Digest
	}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		pi, ok := img.Platforms[p]
		require.True(t, ok, p)
		assert.Equal(t, pi.Manifest, got[p], p)
		mb, _ := get(t, reg.URL+"/v2/library/busybox/manifests/"+pi.Manifest.String(), ocispec.MediaTypeImageManifest)
		var m ocispec.Manifest
		require.NoError(t, json.Unmarshal(mb, &m))
		assert.Equal(t, pi.Config, m.Config.Digest, p)
		cb, _ := get(t, reg.URL+"/v2/library/busybox/blobs/"+pi.Config.String(), "")
		var cfg ocispec.Image
		require.NoError(t, json.Unmarshal(cb, &cfg))
		assert.Equal(t, p, cfg.OS+"/"+cfg.Architecture)
		assert.Equal(t, []string{"sh"}, cfg.Config.Cmd)
	}
}

func TestBusyboxContentIsDeterministic(t *testing.T) {
	t.Parallel()
	Require(t, PartBusyboxAMD64)
	Require(t, PartBusyboxARM64)
	a, err := buildBusybox()
	require.NoError(t, err)
	b, err := buildBusybox()
	require.NoError(t, err)
	assert.Equal(t, a.Index.Digest(), b.Index.Digest())
}

func TestPushTinyDistinctAndRepeatable(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t)
	a := PushTiny(t, reg, "tiny/a", "1")
	b := PushTiny(t, reg, "tiny/b", "1")
	a2 := PushTiny(t, reg, "tiny/a", "1")
	amd := PushTiny(t, reg, "tiny/amd", "1", "linux/amd64")
	assert.NotEqual(t, a.Index, b.Index)
	assert.Equal(t, a, a2)
	assert.Len(t, amd.Platforms, 1)
	body, _ := get(t, reg.URL+"/v2/tiny/b/manifests/1", ocispec.MediaTypeImageIndex)
	assert.Equal(t, b.Index, digest.FromBytes(body))
}

func sha256hex(b []byte) string { return digest.FromBytes(b).Encoded() }
