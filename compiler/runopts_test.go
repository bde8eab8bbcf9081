package compiler

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runDockerfile has a named stage and a final one, each with a RUN, and a COPY between
// them: enough to tell which stage's steps a setting reached.
const runDockerfile = `FROM busybox AS deps
RUN echo deps > /deps
FROM busybox
COPY --from=deps /deps /deps
RUN echo final
`

// compileRun compiles dockerfile as the only component of a spec (linux/amd64), after
// edit changed the component; it returns the build or the compile's error.
func compileRun(t *testing.T, dockerfile string, edit func(*spec.Component)) (*Build, error) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	comp := spec.Component{
		Name: "web", Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
		Platforms: []string{"linux/amd64"}, Output: spec.OutputCacheOnly,
	}
	if edit != nil {
		edit(&comp)
	}
	s := &spec.Spec{Dir: dir, Files: []string{filepath.Join(dir, "archbuild.hcl")}, Platforms: comp.Platforms, Components: []spec.Component{comp}}
	plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
	if err != nil {
		return nil, err
	}
	return plan.Build("web/linux/amd64"), nil
}

// execByArg is the exec op of def whose command line contains arg.
func execByArg(t *testing.T, def *llb.Definition, arg string) *pb.ExecOp {
	t.Helper()
	for _, e := range execs(t, def) {
		if strings.Contains(strings.Join(e.Meta.Args, " "), arg) {
			return e
		}
	}
	require.Failf(t, "no exec op", "no step runs %q", arg)
	return nil
}

func TestRunSettingsReachEveryRun(t *testing.T) {
	t.Parallel()
	plain, err := compileRun(t, runDockerfile, nil)
	require.NoError(t, err)
	b, err := compileRun(t, runDockerfile, func(c *spec.Component) {
		c.ExtraHosts = map[string]string{"Git.Internal": "10.0.0.7", "a.internal": "::1"}
		c.Network = "none"
		c.ShmSize = "128m"
		c.Ulimits = []string{"nofile=1024:2048", "nproc=512"}
	})
	require.NoError(t, err)
	assert.NotEqual(t, plain.LLBDigest, b.LLBDigest, "RUN settings are part of what is built")
	ex := execs(t, b.Definition)
	require.Len(t, ex, 2)
	for _, e := range ex {
		assert.Equal(t, []*pb.HostIP{{Host: "a.internal", IP: net.ParseIP("::1").String()}, {Host: "git.internal", IP: "10.0.0.7"}}, e.Meta.ExtraHosts, "sorted, lower-cased: %v", e.Meta.Args)
		assert.Equal(t, pb.NetMode_NONE, e.Network)
		assert.Equal(t, []*pb.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}, {Name: "nproc", Soft: 512, Hard: 512}}, e.Meta.Ulimit)
		i := slices.IndexFunc(e.Mounts, func(m *pb.Mount) bool { return m.Dest == "/dev/shm" })
		require.GreaterOrEqual(t, i, 0, "a /dev/shm mount")
		assert.Equal(t, pb.MountType_TMPFS, e.Mounts[i].MountType)
		assert.Equal(t, int64(128<<20), e.Mounts[i].TmpfsOpt.Size)
	}
	for _, e := range execs(t, plain.Definition) {
		assert.Empty(t, e.Meta.ExtraHosts)
		assert.Equal(t, pb.NetMode_UNSET, e.Network)
		assert.Empty(t, e.Meta.Ulimit)
	}
	assert.Empty(t, b.Entitlements, "network none needs no entitlement")
}

func TestRunSettingsErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		edit func(*spec.Component)
		want string
	}{
		{"host not an ip", func(c *spec.Component) { c.ExtraHosts = map[string]string{"git": "git.example"} }, `extra_hosts: "git.example" for git is not an IP address`},
		{"network", func(c *spec.Component) { c.Network = "bridge" }, `network "bridge"`},
		{"shm size", func(c *spec.Component) { c.ShmSize = "lots" }, `shm_size "lots"`},
		{"shm size zero", func(c *spec.Component) { c.ShmSize = "0" }, `shm_size "0"`},
		{"ulimit", func(c *spec.Component) { c.Ulimits = []string{"nofile"} }, "ulimits: "},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := compileRun(t, runDockerfile, tt.edit)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "compile web/linux/amd64: ")
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

// ignoresCache reports, per exec and file op of def (by its command or "file"), whether
// its metadata says IgnoreCache; source ops are listed as "source".
func ignoresCache(t *testing.T, def *llb.Definition) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, dt := range def.Def[:len(def.Def)-1] {
		var op pb.Op
		require.NoError(t, op.UnmarshalVT(dt))
		name := "source"
		switch {
		case op.GetExec() != nil:
			name = strings.Join(op.GetExec().Meta.Args, " ")
		case op.GetFile() != nil:
			name = "file"
		}
		out[name] = out[name] || def.Metadata[digest.FromBytes(dt)].IgnoreCache
	}
	return out
}

func TestNoCacheMarksStepsAndPlan(t *testing.T) {
	t.Parallel()
	plain, err := compileRun(t, runDockerfile, nil)
	require.NoError(t, err)
	all, err := compileRun(t, runDockerfile, func(c *spec.Component) { c.NoCache = true; c.NoCacheFilter = []string{"deps"} })
	require.NoError(t, err)
	filtered, err := compileRun(t, runDockerfile, func(c *spec.Component) { c.NoCacheFilter = []string{"deps"} })
	require.NoError(t, err)

	assert.Equal(t, map[string]bool{"source": false, "file": false, "/bin/sh -c echo deps > /deps": false, "/bin/sh -c echo final": false}, ignoresCache(t, plain.Definition))
	assert.Equal(t, map[string]bool{"source": false, "file": true, "/bin/sh -c echo deps > /deps": true, "/bin/sh -c echo final": true}, ignoresCache(t, all.Definition), "no_cache: every step (and it wins over the filter)")
	assert.Equal(t, map[string]bool{"source": false, "file": false, "/bin/sh -c echo deps > /deps": true, "/bin/sh -c echo final": false}, ignoresCache(t, filtered.Definition), "no_cache_filter: the deps stage's steps only")

	assert.Equal(t, plain.LLBDigest, all.LLBDigest, "IgnoreCache is metadata: llb_digest does not show it")
	assert.Equal(t, plain.LLBDigest, filtered.LLBDigest)
	assert.True(t, all.NoCache)
	assert.Nil(t, all.NoCacheFilter)
	assert.False(t, filtered.NoCache)
	assert.Equal(t, []string{"deps"}, filtered.NoCacheFilter)
	assert.False(t, plain.NoCache)
	assert.Nil(t, plain.NoCacheFilter)
}

func TestWithoutCache(t *testing.T) {
	t.Parallel()
	b, err := compileRun(t, runDockerfile, nil)
	require.NoError(t, err)
	p := &Plan{Builds: []Build{*b}}
	out, err := WithoutCache(p)
	require.NoError(t, err)
	got := out.Builds[0]
	assert.Equal(t, map[string]bool{"source": false, "file": true, "/bin/sh -c echo deps > /deps": true, "/bin/sh -c echo final": true}, ignoresCache(t, got.Definition))
	assert.Equal(t, b.Definition.Def, got.Definition.Def, "the ops are the plan's: llb_digest and the source map hold")
	assert.Equal(t, b.Definition.Source, got.Definition.Source)
	assert.False(t, got.NoCache, "the plan is unchanged: --no-cache is this run's")
	assert.Equal(t, map[string]bool{"source": false, "file": false, "/bin/sh -c echo deps > /deps": false, "/bin/sh -c echo final": false}, ignoresCache(t, p.Builds[0].Definition), "the given plan is not modified")
	// Later solve-time rewrites keep the mark (metadata follows its op).
	proxied, err := WithProxy(got.Definition, &spec.Proxy{HTTPProxy: "http://127.0.0.1:3128"})
	require.NoError(t, err)
	assert.True(t, ignoresCache(t, proxied)["/bin/sh -c echo final"])
}

func TestNoCacheAndEntitlementsInViews(t *testing.T) {
	t.Parallel()
	b, err := compileRun(t, "FROM busybox AS deps\nRUN --network=host echo > /x\nFROM busybox AS b\nCOPY --from=deps /x /x\nRUN --security=insecure echo\n", func(c *spec.Component) {
		c.NoCacheFilter = []string{"b", "deps"}
		c.Allow = []string{"security.insecure", "network.host"}
		c.Target = "b"
	})
	require.NoError(t, err)
	p := &Plan{Builds: []Build{*b}}
	text := string(render(t, p, "text"))
	assert.Contains(t, text, "  no cache    stages b, deps\n")
	assert.Contains(t, text, "  entitlements network.host, security.insecure\n")
	var jp JSONPlan
	require.NoError(t, json.Unmarshal(render(t, p, "json"), &jp))
	assert.Equal(t, []string{"b", "deps"}, jp.Builds[0].NoCacheFilter)
	assert.False(t, jp.Builds[0].NoCache)
	assert.Equal(t, []string{"network.host", "security.insecure"}, jp.Builds[0].Entitlements)

	p.Builds[0].NoCache, p.Builds[0].NoCacheFilter, p.Builds[0].Entitlements = true, nil, nil
	text = string(render(t, p, "text"))
	assert.Contains(t, text, "  no cache    all stages\n")
	assert.NotContains(t, text, "entitlements")
	raw := render(t, p, "json")
	assert.Contains(t, string(raw), `"no_cache": true`)
	assert.NotContains(t, string(raw), "no_cache_filter")

	p.Builds[0].NoCache = false
	assert.False(t, bytes.Contains(render(t, p, "text"), []byte("no cache")))
}
