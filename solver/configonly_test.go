package solver

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// solveCounter is a gateway client whose Solve counts calls and returns a result with no ref.
type solveCounter struct {
	gateway.Client
	solves int
}

func (c *solveCounter) Solve(context.Context, gateway.SolveRequest) (*gateway.Result, error) {
	c.solves++
	return gateway.NewResult(), nil
}

func (c *solveCounter) BuildOpts() gateway.BuildOpts { return gateway.BuildOpts{} }

// A config-only build is not sent to the daemon: its ref is nil and its image config goes
// to the exporter, single- and multi-platform, as BuildKit's frontend does.
func TestBuildFuncConfigOnly(t *testing.T) {
	t.Parallel()
	empty, err := (&pb.Op{}).MarshalVT()
	require.NoError(t, err)
	configOnly := &pb.Definition{Def: [][]byte{empty}}
	def, err := llb.Image("docker.io/library/busybox:latest").Marshal(context.Background())
	require.NoError(t, err)
	cfg := []byte(`{"config":{"Env":["foo=bar"]}}`)

	for _, tc := range []struct {
		name   string
		builds []PlatformBuild
		solves int
	}{
		{"single", []PlatformBuild{{Platform: "linux/amd64", Def: configOnly, ImageConfig: cfg}}, 0},
		{"multi", []PlatformBuild{{Platform: "linux/amd64", Def: configOnly, ImageConfig: cfg}, {Platform: "linux/arm64", Def: configOnly, ImageConfig: cfg}}, 0},
		{"mixed", []PlatformBuild{{Platform: "linux/amd64", Def: configOnly, ImageConfig: cfg}, {Platform: "linux/arm64", Def: def.ToPB(), ImageConfig: cfg}}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := &solveCounter{}
			res, err := buildFunc(tc.builds)(context.Background(), c)
			require.NoError(t, err)
			assert.Equal(t, tc.solves, c.solves)
			if len(tc.builds) == 1 {
				assert.Nil(t, res.Ref)
				assert.Equal(t, cfg, res.Metadata[exptypes.ExporterImageConfigKey])
				return
			}
			require.Len(t, res.Refs, len(tc.builds))
			for id, ref := range res.Refs {
				assert.Nil(t, ref, id)
				assert.Equal(t, cfg, res.Metadata[exptypes.ExporterImageConfigKey+"/"+id])
			}
			var ps exptypes.Platforms
			require.NoError(t, json.Unmarshal(res.Metadata[exptypes.ExporterPlatformsKey], &ps))
			assert.Len(t, ps.Platforms, len(tc.builds))
		})
	}
}
