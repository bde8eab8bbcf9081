package compiler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ops decodes a definition into its ops (without the terminal op).
func ops(t testing.TB, def *llb.Definition) []*pb.Op {
	t.Helper()
	var out []*pb.Op
	for _, dt := range def.Def[:len(def.Def)-1] {
		var op pb.Op
		require.NoError(t, op.UnmarshalVT(dt))
		out = append(out, &op)
	}
	return out
}

func sources(t testing.TB, def *llb.Definition, prefix string) []*pb.SourceOp {
	var out []*pb.SourceOp
	for _, op := range ops(t, def) {
		if s := op.GetSource(); s != nil && strings.HasPrefix(s.Identifier, prefix) {
			out = append(out, s)
		}
	}
	return out
}

func execs(t testing.TB, def *llb.Definition) []*pb.ExecOp {
	var out []*pb.ExecOp
	for _, op := range ops(t, def) {
		if e := op.GetExec(); e != nil {
			out = append(out, e)
		}
	}
	return out
}

func TestBasesArePinnedPerPlatform(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	fake := newFakeImages()
	for _, tc := range []struct {
		build string
		want  map[string]string // image source identifier → platform it is pinned for
	}{
		// ARG in FROM (ALPINE_VERSION from the component's args), and the
		// --platform=$BUILDPLATFORM golang stage pinned for the build platform.
		{"base/linux/arm64", map[string]string{"alpine:3.20": "linux/arm64", "golang:1.22": "linux/amd64"}},
		{"base/linux/amd64", map[string]string{"alpine:3.20": "linux/amd64", "golang:1.22": "linux/amd64"}},
		// the base component's graph comes along through the named context.
		{"app/linux/arm64", map[string]string{"alpine:3.20": "linux/arm64", "golang:1.22": "linux/amd64", "busybox:1.36": "linux/arm64"}},
		{"static/linux/amd64", map[string]string{}},
	} {
		t.Run(tc.build, func(t *testing.T) {
			b := plan.Build(tc.build)
			require.NotNil(t, b)
			var got []string
			for _, s := range sources(t, b.Definition, "docker-image://") {
				got = append(got, s.Identifier)
			}
			var want []string
			for ref, p := range tc.want {
				name, _, _ := strings.Cut(ref, ":")
				img, err := fake.Image(context.Background(), "docker.io/library/"+ref, mustPlatform(t, p))
				require.NoError(t, err)
				want = append(want, "docker-image://docker.io/library/"+name+"@"+img.Digest.String())
			}
			assert.ElementsMatch(t, want, got)
		})
	}
}

func TestTargetSelection(t *testing.T) {
	t.Parallel()
	runsStrace := func(p *Plan) bool {
		for _, e := range execs(t, p.Build("base/linux/amd64").Definition) {
			if strings.Contains(strings.Join(e.Meta.Args, " "), "strace") {
				return true
			}
		}
		return false
	}
	assert.False(t, runsStrace(compileProject(t, projectDir)), "target runtime must not build the debug stage")

	s := projectSpec(t, projectDir)
	s.Components[0].Target = "debug"
	plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	assert.True(t, runsStrace(plan))
}

func TestScratchHasNoImage(t *testing.T) {
	t.Parallel()
	b := compileProject(t, projectDir).Build("static/linux/amd64")
	assert.Empty(t, sources(t, b.Definition, "docker-image://"))
	assert.Empty(t, b.Bases)
}

func TestLocalContextsAreStableAndFiltered(t *testing.T) {
	t.Parallel()
	b := compileProject(t, projectDir).Build("base/linux/amd64")
	locals := sources(t, b.Definition, "local://")
	require.Len(t, locals, 1)
	l := locals[0]
	assert.Equal(t, "local://archc:base", l.Identifier)
	assert.Equal(t, b.Contexts[0].Digest.String(), l.Attrs[pb.AttrLocalUniqueID], "unique id is the content digest, not random")
	assert.Contains(t, l.Attrs[pb.AttrExcludePatterns], "*.bak")
	assert.NotContains(t, l.Attrs, pb.AttrLocalSessionID, "no session-specific names in the LLB")
}

func TestAutomaticPlatformArgs(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	for _, id := range []string{"app/linux/amd64", "app/linux/arm64"} {
		var envs []string
		for _, e := range execs(t, plan.Build(id).Definition) {
			if strings.Contains(strings.Join(e.Meta.Args, " "), "built for") {
				envs = e.Meta.Env
			}
		}
		assert.Contains(t, envs, "TARGETPLATFORM="+strings.TrimPrefix(id, "app/"), id)
	}
}

func TestProxyIsExecProxyEnvOnly(t *testing.T) {
	t.Parallel()
	s := projectSpec(t, projectDir)
	b := compileProject(t, projectDir).Build("base/linux/arm64")
	for _, e := range execs(t, b.Definition) {
		assert.Nil(t, e.Meta.ProxyEnv, "compiled definitions carry no proxy")
	}
	withProxy, err := WithProxy(b.Definition, s.Proxy)
	require.NoError(t, err)
	ex := execs(t, withProxy)
	require.NotEmpty(t, ex)
	for _, e := range ex {
		require.NotNil(t, e.Meta.ProxyEnv)
		assert.Equal(t, s.Proxy.HTTPProxy, e.Meta.ProxyEnv.HttpProxy)
		assert.Equal(t, "localhost,127.0.0.1", e.Meta.ProxyEnv.NoProxy)
		for _, env := range e.Meta.Env {
			assert.NotContains(t, strings.ToLower(env), "proxy", "proxy must not be plain env")
		}
	}
	// the graph stays consistent: every input names an op of the definition.
	have := map[string]bool{}
	for _, dt := range withProxy.Def {
		have[digest.FromBytes(dt).String()] = true
	}
	for _, dt := range withProxy.Def {
		var op pb.Op
		require.NoError(t, op.UnmarshalVT(dt))
		for _, in := range op.Inputs {
			assert.True(t, have[in.Digest], "dangling input %s", in.Digest)
		}
		if op.GetExec() != nil {
			md := withProxy.Metadata[digest.FromBytes(dt)]
			assert.True(t, md.Caps[pb.CapExecMetaProxy])
		}
	}
	same, err := WithProxy(b.Definition, nil)
	require.NoError(t, err)
	assert.Same(t, b.Definition, same)
}

func TestMissingPinIsReported(t *testing.T) {
	t.Parallel()
	fake := newFakeImages()
	fake.missing["docker.io/library/busybox:1.36"] = true
	plan, err := Compile(context.Background(), projectSpec(t, projectDir), fake, WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	require.Len(t, plan.Build("app/linux/amd64").Bases, 1)
	assert.True(t, plan.Build("app/linux/amd64").Bases[0].Resolved)
	assert.Contains(t, string(render(t, plan, "text")), "2 resolved now and not in the lock")
}

func TestCompileErrorsNameWhatFailed(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "static", "Dockerfile"), []byte("# a comment\nFROM nosuch:1\n"), 0o644))
	_, err := Compile(context.Background(), projectSpec(t, dir), newFakeImages())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "compile static/linux/amd64: static/Dockerfile:2: ")
	assert.Contains(t, err.Error(), "docker.io/library/nosuch:1")

	s := projectSpec(t, projectDir)
	s.Components[0].Platforms = []string{"linux/amd64"} // app still wants base for arm64
	_, err = Compile(context.Background(), s, newFakeImages())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "component base is not built for linux/arm64")
}

func TestOutputs(t *testing.T) {
	t.Parallel()
	dir, _ := filepath.Abs(projectDir)
	for _, tc := range []struct {
		comp spec.Component
		want []Output
	}{
		{spec.Component{Output: spec.OutputRegistry, Tags: []string{"r/b:2", "r/a:1"}}, []Output{{Type: "registry", Name: "r/a:1"}, {Type: "registry", Name: "r/b:2"}}},
		{spec.Component{Output: spec.OutputOCI, OutputPath: filepath.Join(dir, "out", "x.tar")}, []Output{{Type: "oci", Path: "out/x.tar"}}},
		{spec.Component{Output: spec.OutputCacheOnly}, []Output{{Type: "cache-only"}}},
		{spec.Component{}, []Output{{Type: "cache-only"}}},
	} {
		assert.Equal(t, tc.want, outputs(dir, &tc.comp))
	}
}

func TestProxyBuildArgsAreDropped(t *testing.T) {
	t.Parallel()
	s := projectSpec(t, projectDir)
	s.Components[0].Args["HTTPS_PROXY"] = "http://carol:pw-in-args@10.0.0.1:3128"
	plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	b := plan.Build("base/linux/amd64")
	assert.NotContains(t, b.Args, "HTTPS_PROXY")
	for _, e := range execs(t, b.Definition) {
		assert.Nil(t, e.Meta.ProxyEnv)
	}
	for _, f := range Formats {
		assert.NotContains(t, string(render(t, plan, f)), "pw-in-args", f)
	}
	assert.Contains(t, plan.Warnings, "base: build arg HTTPS_PROXY ignored: set proxies in the spec's proxy block (they reach RUN steps without entering the build's identity)")
}
