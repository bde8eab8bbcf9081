package solver

import (
	"context"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// TestSolveEntitlements: a solve is granted what its builds' steps need (the plan's
// entitlements), across its platforms, and nothing for a build that needs nothing (or a
// config-only build).
func TestSolveEntitlements(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		builds []PlatformBuild
		want   []string
	}{
		{"none", []PlatformBuild{{}, {Def: nil}}, nil},
		{"host network", []PlatformBuild{{Entitlements: []string{"network.host"}}}, []string{"network.host"}},
		{"across platforms", []PlatformBuild{{Entitlements: []string{"security.insecure"}}, {Entitlements: []string{"network.host"}}, {}}, []string{"network.host", "security.insecure"}},
		{"shared by platforms", []PlatformBuild{{Entitlements: []string{"network.host", "security.insecure"}}, {Entitlements: []string{"network.host"}}}, []string{"network.host", "security.insecure"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, solveEntitlements(tt.builds))
		})
	}
}

// TestJobsFromPlanEntitlements: a job's builds carry the plan's entitlements (checked
// at compile time), so a solve never decodes a definition to find them.
func TestJobsFromPlanEntitlements(t *testing.T) {
	t.Parallel()
	d, err := llb.Image("busybox").Run(llb.Shlex("true"), llb.Network(pb.NetMode_HOST)).Root().Marshal(context.Background())
	require.NoError(t, err)
	s := &spec.Spec{Dir: "/proj", Components: []spec.Component{{Name: "web", Platforms: []string{"linux/amd64"}}}}
	jobs, err := JobsFromPlan(&compiler.Plan{Builds: []compiler.Build{
		{ID: "web/linux/amd64", Component: "web", Platform: "linux/amd64", Definition: d, Entitlements: []string{"network.host"}},
	}}, s)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	assert.Equal(t, []string{"network.host"}, solveEntitlements(jobs[0].Builds))
}
