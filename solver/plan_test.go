package solver

import (
	"context"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

func TestJobsFromPlan(t *testing.T) {
	t.Parallel()
	def := func(p string) *llb.Definition {
		d, err := llb.Image("busybox", llb.Platform(mustParse(p))).Run(llb.Shlex("true")).Root().Marshal(context.Background())
		require.NoError(t, err)
		return d
	}
	s := &spec.Spec{
		Dir:        "/proj",
		Proxy:      &spec.Proxy{HTTPProxy: "http://proxy:3128", NoProxy: []string{"localhost", ".internal"}},
		Registries: []spec.Registry{{Host: "reg.internal:5000", HTTP: true}},
		Components: []spec.Component{
			{Name: "base", Platforms: []string{"linux/arm64", "linux/amd64"}},
			{Name: "app", Platforms: []string{"linux/amd64"}},
		},
	}
	p := &compiler.Plan{Builds: []compiler.Build{
		{ID: "app/linux/amd64", Component: "app", Platform: "linux/amd64", Definition: def("linux/amd64"),
			DependsOn: []string{"base/linux/amd64"},
			Contexts:  []compiler.Context{{Name: "context", Path: "app", LocalName: "archc:app"}},
			Outputs:   []compiler.Output{{Type: spec.OutputOCI, Path: "out/app.tar"}}},
		{ID: "base/linux/amd64", Component: "base", Platform: "linux/amd64", Definition: def("linux/amd64"), ImageConfig: []byte(`{}`),
			Outputs: []compiler.Output{{Type: spec.OutputRegistry, Name: "reg.internal:5000/base:1"}}},
		{ID: "base/linux/arm64", Component: "base", Platform: "linux/arm64", Definition: def("linux/arm64"),
			Outputs: []compiler.Output{{Type: spec.OutputRegistry, Name: "reg.internal:5000/base:1"}}},
	}}
	jobs, err := JobsFromPlan(p, s)
	require.NoError(t, err)
	require.Len(t, jobs, 2)

	base, app := jobs[0], jobs[1]
	assert.Equal(t, "base", base.Component, "spec (dependency) order")
	assert.Equal(t, []string{"linux/arm64", "linux/amd64"}, base.Platforms(), "the component's platform order")
	assert.Equal(t, spec.OutputRegistry, base.Output)
	assert.Equal(t, []string{"reg.internal:5000/base:1"}, base.Tags)
	assert.True(t, base.Insecure, "registry block says http")
	assert.Equal(t, []byte(`{}`), base.Builds[1].ImageConfig)

	assert.Equal(t, []string{"base"}, app.DependsOn)
	assert.Equal(t, spec.OutputOCI, app.Output)
	assert.Equal(t, "/proj/out/app.tar", app.OutputPath)
	assert.Equal(t, map[string]string{"archc:app": "/proj/app"}, app.LocalDirs)

	// The proxy is in every exec op, and only there.
	execs := 0
	for _, dt := range app.Builds[0].Def.Def {
		var op pb.Op
		require.NoError(t, proto.Unmarshal(dt, &op))
		if ex := op.GetExec(); ex != nil {
			execs++
			require.NotNil(t, ex.Meta.ProxyEnv)
			assert.Equal(t, "http://proxy:3128", ex.Meta.ProxyEnv.HttpProxy)
			assert.Equal(t, "localhost,.internal", ex.Meta.ProxyEnv.NoProxy)
			for _, e := range ex.Meta.Env {
				assert.NotContains(t, e, "proxy:3128")
			}
		}
	}
	assert.Equal(t, 1, execs)
}
