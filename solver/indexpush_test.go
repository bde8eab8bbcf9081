package solver

import (
	"context"
	"fmt"
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
	dgst, err := push(ctx, []string{name + "/demo/app:v1"}, manifests)
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
