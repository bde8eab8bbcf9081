package compiler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// execLines maps each exec op of def to the first line of the Dockerfile instruction its
// source location points at, in the named Dockerfile.
func execLines(t *testing.T, def *llb.Definition, dockerfile string) map[string]string {
	t.Helper()
	require.NotNil(t, def.Source, "the definition carries a source map")
	out := map[string]string{}
	for _, dt := range def.Def {
		var op pb.Op
		require.NoError(t, op.UnmarshalVT(dt))
		if op.GetExec() == nil {
			continue
		}
		dgst := digest.FromBytes(dt).String()
		locs := def.Source.Locations[dgst]
		require.NotNil(t, locs, "exec %v has a source location", op.GetExec().Meta.Args)
		for _, l := range locs.Locations {
			require.Less(t, int(l.SourceIndex), len(def.Source.Infos))
			info := def.Source.Infos[l.SourceIndex]
			if info.Filename != dockerfile {
				continue
			}
			lines := strings.Split(string(info.Data), "\n")
			start := int(l.Ranges[0].Start.Line)
			require.True(t, start >= 1 && start <= len(lines))
			out[dgst] = lines[start-1]
		}
	}
	return out
}

func TestDefinitionCarriesSourceMap(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	want, err := os.ReadFile(filepath.Join(projectDir, "base", "Dockerfile"))
	require.NoError(t, err)

	b := plan.Build("base/linux/arm64")
	require.NotNil(t, b)
	require.NotNil(t, b.Definition.Source)
	var info *pb.SourceInfo
	for _, in := range b.Definition.Source.Infos {
		if in.Filename == "base/Dockerfile" {
			info = in
		}
	}
	require.NotNil(t, info, "the Dockerfile is named relative to the spec directory")
	assert.Equal(t, "Dockerfile", info.Language)
	assert.Equal(t, string(want), string(info.Data))
	for _, in := range b.Definition.Source.Infos {
		assert.False(t, filepath.IsAbs(in.Filename), "no absolute path: %s", in.Filename)
	}

	lines := execLines(t, b.Definition, "base/Dockerfile")
	require.NotEmpty(t, lines)
	for _, l := range lines {
		assert.True(t, strings.HasPrefix(l, "RUN "), "an exec points at a RUN line, not %q", l)
	}

	// the proxy is added after compiling: locations follow the re-digested ops.
	withProxy, err := WithProxy(b.Definition, projectSpec(t, projectDir).Proxy)
	require.NoError(t, err)
	assert.Len(t, execLines(t, withProxy, "base/Dockerfile"), len(lines))

	// a build fed by another component carries that component's Dockerfile too.
	app := plan.Build("app/linux/arm64")
	require.NotNil(t, app)
	var names []string
	for _, in := range app.Definition.Source.Infos {
		names = append(names, in.Filename)
	}
	assert.Contains(t, names, "base/Dockerfile")
	assert.Contains(t, names, "app/Dockerfile")
}

func TestSourceMapIsDeterministicAndSaved(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	a, b := compileProject(t, dir), compileProject(t, dir)
	pa, pbPath := filepath.Join(dir, "a.archc"), filepath.Join(dir, "b.archc")
	require.NoError(t, NewPlanFile(a, s.Files).Save(pa))
	require.NoError(t, NewPlanFile(b, s.Files).Save(pbPath))
	da, err := os.ReadFile(pa)
	require.NoError(t, err)
	db, err := os.ReadFile(pbPath)
	require.NoError(t, err)
	assert.Equal(t, string(da), string(db), "identical inputs give an identical plan file")

	f, err := LoadPlanFile(pa)
	require.NoError(t, err)
	for i, want := range a.Builds {
		got := f.Plan.Builds[i]
		require.NotNil(t, got.Definition.Source, want.ID)
		assert.True(t, proto.Equal(want.Definition.Source, got.Definition.Source), "%s: source map survives the plan file", want.ID)
	}
}
