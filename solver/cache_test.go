package solver

import (
	"context"
	"encoding/json"
	"testing"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

func TestCacheOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		entries []string
		export  bool
		want    []client.CacheOptionsEntry
		err     string
	}{
		{"none", nil, false, nil, ""},
		{"registry import", []string{"type=registry,ref=127.0.0.1:5001/cache/app"}, false,
			[]client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "127.0.0.1:5001/cache/app"}}}, ""},
		{"registry export, extra keys kept", []string{"type=registry,compression=zstd,image-manifest=true,mode=max,ref=127.0.0.1:5001/cache/app"}, true,
			[]client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "127.0.0.1:5001/cache/app", "mode": "max", "compression": "zstd", "image-manifest": "true"}}}, ""},
		{"local import: relative to the spec", []string{"type=local,src=cache/app"}, false,
			[]client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"src": "/proj/cache/app"}}}, ""},
		{"local export: relative to the spec, outside it", []string{"type=local,dest=../shared/cache,mode=max"}, true,
			[]client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"dest": "/shared/cache", "mode": "max"}}}, ""},
		{"local export: absolute stays", []string{"type=local,dest=/var/cache/app"}, true,
			[]client.CacheOptionsEntry{{Type: "local", Attrs: map[string]string{"dest": "/var/cache/app"}}}, ""},
		{"inline", []string{"type=inline"}, true, []client.CacheOptionsEntry{{Type: "inline", Attrs: map[string]string{}}}, ""},
		{"an edited entry is refused", []string{"type=gha"}, true, nil, `cache entry "type=gha": type "gha" is not one of`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := cacheOptions(tt.entries, tt.export, "/proj")
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestJobsFromPlanCache: a job carries its component's cache imports and exports, with
// local directories under the spec's directory.
func TestJobsFromPlanCache(t *testing.T) {
	t.Parallel()
	d, err := llb.Image("busybox").Marshal(context.Background())
	require.NoError(t, err)
	s := &spec.Spec{Dir: "/proj", Components: []spec.Component{{Name: "app", Platforms: []string{"linux/amd64", "linux/arm64"}}, {Name: "plain", Platforms: []string{"linux/amd64"}}}}
	build := func(id, comp, platform string) compiler.Build {
		b := compiler.Build{ID: id, Component: comp, Platform: platform, Definition: d, Outputs: []compiler.Output{{Type: spec.OutputCacheOnly}}}
		if comp == "app" {
			b.CacheFrom = []string{"type=local,src=cache/app", "type=registry,ref=127.0.0.1:5001/cache/app"}
			b.CacheTo = []string{"type=registry,mode=max,ref=127.0.0.1:5001/cache/app"}
		}
		return b
	}
	jobs, err := JobsFromPlan(&compiler.Plan{Builds: []compiler.Build{
		build("app/linux/amd64", "app", "linux/amd64"), build("app/linux/arm64", "app", "linux/arm64"), build("plain/linux/amd64", "plain", "linux/amd64"),
	}}, s)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	assert.Equal(t, []client.CacheOptionsEntry{
		{Type: "local", Attrs: map[string]string{"src": "/proj/cache/app"}},
		{Type: "registry", Attrs: map[string]string{"ref": "127.0.0.1:5001/cache/app"}},
	}, jobs[0].CacheImports)
	assert.Equal(t, []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "127.0.0.1:5001/cache/app", "mode": "max"}}}, jobs[0].CacheExports)
	assert.Nil(t, jobs[1].CacheImports)
	assert.Nil(t, jobs[1].CacheExports)
}

// optsClient is a gateway client that only has build options.
type optsClient struct {
	gateway.Client
	opts map[string]string
}

func (c optsClient) BuildOpts() gateway.BuildOpts { return gateway.BuildOpts{Opts: c.opts} }

// TestGatewayCacheImports reads back what client.Build puts in the frontend options: the
// daemon's own encoding of SolveOpt.CacheImports.
func TestGatewayCacheImports(t *testing.T) {
	t.Parallel()
	dt, err := json.Marshal([]*controlapi.CacheOptionsEntry{
		{Type: "registry", Attrs: map[string]string{"ref": "127.0.0.1:5001/cache/app"}},
		{Type: "local", Attrs: map[string]string{"src": "/proj/cache", "digest": "sha256:abc"}},
	})
	require.NoError(t, err)
	got, err := gatewayCacheImports(optsClient{opts: map[string]string{"cache-imports": string(dt)}})
	require.NoError(t, err)
	assert.Equal(t, []gateway.CacheOptionsEntry{
		{Type: "registry", Attrs: map[string]string{"ref": "127.0.0.1:5001/cache/app"}},
		{Type: "local", Attrs: map[string]string{"src": "/proj/cache", "digest": "sha256:abc"}},
	}, got)

	got, err = gatewayCacheImports(optsClient{opts: map[string]string{}})
	require.NoError(t, err)
	assert.Nil(t, got, "no cache_from: nothing to import")
	_, err = gatewayCacheImports(optsClient{opts: map[string]string{"cache-imports": "{"}})
	assert.ErrorContains(t, err, "read the solve's cache imports")
}
