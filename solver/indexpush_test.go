package solver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// TestIndexPusherUsesTheSpecsProxy: the index archc pushes itself (platforms split across
// builders) goes through the spec's proxy, not the environment's. The registry's name
// resolves only inside the test proxy, and the environment's proxy is a dead port. Not
// parallel: it sets HTTP_PROXY.
func TestIndexPusherUsesTheSpecsProxy(t *testing.T) {
	reg := testenv.StartRegistry(t)
	img := testenv.PushTiny(t, reg, "demo/app", "parts", "linux/amd64", "linux/arm64")
	const name = "push.archc.test:5000"
	proxy := testenv.StartHTTPProxy(t, testenv.WithHostOverride(name, reg.Host))
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:9")
	t.Setenv("http_proxy", "http://127.0.0.1:9")

	s := &spec.Spec{
		Proxy:      &spec.Proxy{HTTPProxy: proxy.URL, HTTPSProxy: proxy.URL},
		Registries: []spec.Registry{{Host: name, HTTP: true}},
	}
	push, err := NewIndexPusher(s, nil)
	require.NoError(t, err)
	var manifests []ocispecs.Descriptor
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		manifests = append(manifests, manifestDescriptor(t, reg, "demo/app", img.Platforms[p].Manifest.String(), p))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dgst, err := push(ctx, []string{name + "/demo/app:v1"}, manifests, nil)
	require.NoError(t, err)
	assert.Positive(t, proxy.Forwarded(name), "the push went through the spec's proxy")

	req, err := http.NewRequest(http.MethodHead, fmt.Sprintf("%s/v2/demo/app/manifests/v1", reg.URL), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", ocispecs.MediaTypeImageIndex)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, dgst.String(), resp.Header.Get("Docker-Content-Digest"), "the tag points to the pushed index")
}

// manifestDescriptor HEADs a manifest for its media type and size.
func manifestDescriptor(t *testing.T, reg *testenv.Registry, repo, dgst, platform string) ocispecs.Descriptor {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, fmt.Sprintf("%s/v2/%s/manifests/%s", reg.URL, repo, dgst), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", ocispecs.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	goos, arch, _ := strings.Cut(platform, "/")
	d, err := digest.Parse(resp.Header.Get("Docker-Content-Digest"))
	require.NoError(t, err)
	return ocispecs.Descriptor{MediaType: resp.Header.Get("Content-Type"), Digest: d,
		Size: resp.ContentLength, Platform: &ocispecs.Platform{OS: goos, Architecture: arch}}
}

// TestIndexPusherPushesEveryTag: an index split across builders goes under every tag, in
// every repository (issue 12: only the first tag got it, the push tracker of the one
// resolver answering "already exists" for the others), and a rerun repairs a tag that
// went missing.
func TestIndexPusherPushesEveryTag(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	plats := []string{"linux/amd64", "linux/arm64"}
	c, err := testenv.TinyContent("farm", plats...)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var manifests []ocispecs.Descriptor
	for _, repo := range []string{"team/app", "mirror/app"} {
		img, err := c.Push(ctx, reg.URL, repo, "src") // the platforms' manifests, in both repositories
		require.NoError(t, err)
		if manifests == nil {
			for _, p := range plats {
				manifests = append(manifests, manifestDescriptor(t, reg, repo, img.Platforms[p].Manifest.String(), p))
			}
		}
	}
	push, err := NewIndexPusher(&spec.Spec{Registries: []spec.Registry{{Host: reg.Host, HTTP: true}}}, nil)
	require.NoError(t, err)
	tags := []string{reg.Host + "/team/app:v1", reg.Host + "/team/app:latest", reg.Host + "/mirror/app:v1"}
	ann := map[string]string{"org.opencontainers.image.source": "https://git.example/app"}
	dgst, err := push(ctx, tags, manifests, ann)
	require.NoError(t, err)
	for _, tag := range tags {
		assert.Equal(t, dgst.String(), tagDigest(t, reg, tag), "%s points to the index", tag)
	}
	idx := readIndex(t, reg, tags[0])
	assert.Equal(t, ann, idx.Annotations, "the component's index annotations are on the index archc pushes")

	// Someone deletes latest; the rerun puts it back (and leaves the others as they are).
	req, err := http.NewRequest(http.MethodDelete, fmt.Sprintf("%s/v2/team/app/manifests/%s", reg.URL, dgst), nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Skipf("the test registry does not delete manifests (%d)", resp.StatusCode)
	}
	require.Empty(t, tagDigest(t, reg, tags[1]), "deleted")
	again, err := push(ctx, tags, manifests, ann)
	require.NoError(t, err)
	assert.Equal(t, dgst, again)
	for _, tag := range tags {
		assert.Equal(t, dgst.String(), tagDigest(t, reg, tag), "%s points to the index after the rerun", tag)
	}
}

// tagDigest GETs a tag's manifest and returns its digest, "" when the tag is missing.
func tagDigest(t *testing.T, reg *testenv.Registry, ref string) string {
	t.Helper()
	repo, tag, ok := strings.Cut(strings.TrimPrefix(ref, reg.Host+"/"), ":")
	require.True(t, ok, ref)
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v2/%s/manifests/%s", reg.URL, repo, tag), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", ocispecs.MediaTypeImageIndex+", "+ocispecs.MediaTypeImageManifest)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	if resp.StatusCode == http.StatusNotFound {
		return ""
	}
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", body)
	return digest.FromBytes(body).String()
}

// readIndex GETs the index a tag names.
func readIndex(t *testing.T, reg *testenv.Registry, ref string) ocispecs.Index {
	t.Helper()
	repo, tag, ok := strings.Cut(strings.TrimPrefix(ref, reg.Host+"/"), ":")
	require.True(t, ok, ref)
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/v2/%s/manifests/%s", reg.URL, repo, tag), nil)
	require.NoError(t, err)
	req.Header.Set("Accept", ocispecs.MediaTypeImageIndex)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var idx ocispecs.Index
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&idx))
	return idx
}
