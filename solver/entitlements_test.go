package solver

import (
	"context"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSolveEntitlements: a solve is granted what its definitions' steps need, across its
// platforms, and nothing for a definition that needs nothing (or a config-only build).
func TestSolveEntitlements(t *testing.T) {
	t.Parallel()
	def := func(opts ...llb.RunOption) *pb.Definition {
		d, err := llb.Image("busybox").Run(append([]llb.RunOption{llb.Shlex("true")}, opts...)...).Root().Marshal(context.Background())
		require.NoError(t, err)
		return d.ToPB()
	}
	for _, tt := range []struct {
		name   string
		builds []PlatformBuild
		want   []string
	}{
		{"none", []PlatformBuild{{Def: def()}, {Def: nil}}, nil},
		{"host network", []PlatformBuild{{Def: def(llb.Network(pb.NetMode_HOST))}}, []string{"network.host"}},
		{"across platforms", []PlatformBuild{{Def: def(llb.Security(pb.SecurityMode_INSECURE))}, {Def: def(llb.Network(pb.NetMode_HOST))}, {Def: def(llb.Network(pb.NetMode_NONE))}}, []string{"network.host", "security.insecure"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := solveEntitlements(tt.builds)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
