package compiler

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shiftedImages answers like fakeImages, but moves the pin (or only the config) of ref.
type shiftedImages struct {
	*fakeImages
	ref          string
	digest, conf bool
}

func (s *shiftedImages) Image(ctx context.Context, ref string, p ocispecs.Platform) (Image, error) {
	img, err := s.fakeImages.Image(ctx, ref, p)
	if err == nil && ref == s.ref {
		if s.digest {
			img.Digest = digest.FromString("moved " + string(img.Digest))
		}
		if s.conf {
			img.Config = append([]byte(nil), img.Config...)
			img.Config = []byte(string(img.Config[:len(img.Config)-1]) + `,"author":"moved"}`)
		}
	}
	return img, err
}

// testCache is a compile cache in a temp dir, with version v.
func testCache(t *testing.T, v string) *compileCache {
	cc := newCompileCache(t.TempDir())
	require.NotNil(t, cc, "the test binary has a Go build ID")
	cc.version = v
	return cc
}

// comparable is plan with each definition as its deterministic bytes, for require.Equal.
func comparable(t *testing.T, plan *Plan) (*Plan, [][]byte) {
	out := *plan
	out.Builds = slices.Clone(plan.Builds)
	var defs [][]byte
	for i := range out.Builds {
		dt, err := marshalDefinition(out.Builds[i].Definition)
		require.NoError(t, err)
		defs = append(defs, dt)
		out.Builds[i].Definition = nil
	}
	return &out, defs
}

func requireSamePlan(t *testing.T, want, got *Plan) {
	t.Helper()
	w, wd := comparable(t, want)
	g, gd := comparable(t, got)
	require.Equal(t, w, g)
	require.Equal(t, wd, gd, "definitions (ops, metadata, source maps)")
}

// TestCompileCacheNeverStale changes each input of a compile in turn and expects exactly
// the builds that depend on it compiled again, and the plan of a compile without cache.
func TestCompileCacheNeverStale(t *testing.T) {
	t.Parallel()
	all := []string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64", "static/linux/amd64"}
	baseAndApp := []string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64"}
	app := []string{"app/linux/amd64", "app/linux/arm64"}
	write := func(t *testing.T, path, content string) {
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
	appComp := func(s *spec.Spec) *spec.Component { return s.Component("app") }
	type env struct {
		dir    string
		s      *spec.Spec
		images *shiftedImages
		cc     *compileCache
		bp     string
	}
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, e *env)
		edit     func(t *testing.T, e *env)
		compiled []string
	}{
		{"nothing", nil, func(*testing.T, *env) {}, nil},
		{"a Dockerfile byte (the Dockerfile not in its context)", func(t *testing.T, e *env) {
			write(t, filepath.Join(e.dir, "base", ".dockerignore"), "Dockerfile\n")
		}, func(t *testing.T, e *env) {
			f := filepath.Join(e.dir, "base", "Dockerfile")
			dt, _ := os.ReadFile(f)
			write(t, f, string(dt)+"# a comment\n")
		}, baseAndApp},
		{".dockerignore", nil, func(t *testing.T, e *env) {
			write(t, filepath.Join(e.dir, "base", ".dockerignore"), "secret\n")
		}, baseAndApp},
		{"<Dockerfile>.dockerignore appears", nil, func(t *testing.T, e *env) {
			write(t, filepath.Join(e.dir, "app", "Dockerfile.dockerignore"), "*.conf\n")
		}, app},
		{"an arg", nil, func(_ *testing.T, e *env) { e.s.Component("base").Args["ALPINE_VERSION"] = "3.21" }, baseAndApp},
		{"a platform arg", nil, func(_ *testing.T, e *env) {
			e.s.Component("static").PlatformArgs = map[string]map[string]string{"linux/amd64": {"X": "1"}}
		}, []string{"static/linux/amd64"}},
		{"the target", nil, func(_ *testing.T, e *env) { e.s.Component("base").Target = "debug" }, baseAndApp},
		{"a platform", nil, func(_ *testing.T, e *env) { e.s.Component("static").Platforms = []string{"linux/arm64"} }, []string{"static/linux/arm64"}},
		{"the build platform", nil, func(_ *testing.T, e *env) { e.bp = "linux/arm64" }, all},
		{"a context file", nil, func(t *testing.T, e *env) { write(t, filepath.Join(e.dir, "app", "app.conf"), "changed\n") }, app},
		{"a local named context", nil, func(t *testing.T, e *env) {
			write(t, filepath.Join(e.dir, "assets", "index.html"), "<p>changed</p>\n")
		}, app},
		{"a named-context dependency's content", nil, func(t *testing.T, e *env) {
			write(t, filepath.Join(e.dir, "base", "hello.go"), "package main\n\nfunc main() { println(2) }\n")
		}, baseAndApp},
		{"a pin", nil, func(_ *testing.T, e *env) { e.images.ref, e.images.digest = "docker.io/library/alpine:3.20", true }, baseAndApp},
		{"a pinned config", nil, func(_ *testing.T, e *env) { e.images.ref, e.images.conf = "docker.io/library/busybox:1.36", true }, app},
		{"a label", nil, func(_ *testing.T, e *env) { appComp(e.s).Labels["x"] = "y" }, app},
		{"extra_hosts", nil, func(_ *testing.T, e *env) { appComp(e.s).ExtraHosts = map[string]string{"h": "10.0.0.1"} }, app},
		{"network", nil, func(_ *testing.T, e *env) { appComp(e.s).Network = "none" }, app},
		{"shm_size", nil, func(_ *testing.T, e *env) { appComp(e.s).ShmSize = "128m" }, app},
		{"ulimits", nil, func(_ *testing.T, e *env) { appComp(e.s).Ulimits = []string{"nofile=1024:2048"} }, app},
		{"no_cache", nil, func(_ *testing.T, e *env) { appComp(e.s).NoCache = true }, app},
		{"no_cache_filter", nil, func(_ *testing.T, e *env) { e.s.Component("base").NoCacheFilter = []string{"build"} }, baseAndApp},
		{"an ssh id", nil, func(_ *testing.T, e *env) {
			e.s.SSH = []spec.SSH{{ID: "default"}}
			appComp(e.s).SSH = []string{"default"}
		}, all},
		{"the archc version", nil, func(_ *testing.T, e *env) { e.cc.version = "another build" }, all},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := &env{dir: copyProject(t), images: &shiftedImages{fakeImages: newFakeImages()}, cc: testCache(t, "v1"), bp: "linux/amd64"}
			e.s = projectSpec(t, e.dir)
			if tc.setup != nil {
				tc.setup(t, e)
			}
			ctx := context.Background()
			_, err := compileWith(ctx, e.s, e.images, e.cc, WithBuildPlatform(e.bp))
			require.NoError(t, err)
			e.cc.compiled = nil

			tc.edit(t, e)
			got, err := compileWith(ctx, e.s, e.images, e.cc, WithBuildPlatform(e.bp))
			require.NoError(t, err)
			slices.Sort(e.cc.compiled)
			assert.Equal(t, tc.compiled, e.cc.compiled, "builds compiled again")
			want, err := Compile(ctx, e.s, e.images, WithBuildPlatform(e.bp))
			require.NoError(t, err)
			requireSamePlan(t, want, got)
		})
	}
}

// TestCompileCacheWarmIsCold: a plan read from the cache is the plan compiled, warnings
// included, and compiles nothing.
func TestCompileCacheWarmIsCold(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	cc := testCache(t, "v1")
	ctx := context.Background()
	cold, err := Compile(ctx, projectSpec(t, dir), newFakeImages(), WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	require.NotEmpty(t, cold.Warnings, "the project has a `# syntax=` line")
	for i, wantCompiled := range []int{len(cold.Builds), 0} {
		cc.compiled = nil
		got, err := compileWith(ctx, projectSpec(t, dir), newFakeImages(), cc, WithBuildPlatform("linux/amd64"))
		require.NoError(t, err)
		assert.Len(t, cc.compiled, wantCompiled, "run %d", i)
		requireSamePlan(t, cold, got)
	}
}

// TestCompileCacheIgnoresBadEntries: a corrupt, torn or unreadable snapshot costs compiles
// (of the entries it spoils), never a wrong plan.
func TestCompileCacheIgnoresBadEntries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		spoil    func(string) error
		compiled func(n int) bool
	}{
		{"flipped byte", func(p string) error {
			dt, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			dt[len(dt)-10] ^= 1
			return os.WriteFile(p, dt, 0o600)
		}, func(n int) bool { return n == 1 }},
		{"torn", func(p string) error {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			return os.Truncate(p, fi.Size()/2)
		}, func(n int) bool { return n >= 1 }},
		{"empty", func(p string) error { return os.WriteFile(p, nil, 0o600) }, func(n int) bool { return n == 5 }},
		{"unreadable", func(p string) error { os.Remove(p); return os.Mkdir(p, 0o700) }, func(n int) bool { return n == 5 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			cc := testCache(t, "v1")
			ctx := context.Background()
			cold, err := compileWith(ctx, projectSpec(t, dir), newFakeImages(), cc, WithBuildPlatform("linux/amd64"))
			require.NoError(t, err)
			require.Len(t, cold.Builds, 5)
			snaps, err := filepath.Glob(filepath.Join(cc.dir, "plans", "*.builds"))
			require.NoError(t, err)
			require.Len(t, snaps, 1)
			require.NoError(t, tc.spoil(snaps[0]))
			cc.compiled = nil
			got, err := compileWith(ctx, projectSpec(t, dir), newFakeImages(), cc, WithBuildPlatform("linux/amd64"))
			require.NoError(t, err)
			assert.True(t, tc.compiled(len(cc.compiled)), "compiled %v", cc.compiled)
			requireSamePlan(t, cold, got)
		})
	}
}
