package compiler

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// farmSpec is the compiler's test project on a build farm: two amd64 nodes, one arm64
// node and one that declares nothing; static pinned to amd-2; base exporting its cache to
// a registry and a local directory, app importing both.
func farmSpec(t testing.TB, dir string) *spec.Spec {
	t.Helper()
	s := projectSpec(t, dir)
	s.Builders = []spec.Builder{
		{Name: "amd-1", Platforms: []string{"linux/amd64"}},
		{Name: "amd-2", Platforms: []string{"linux/amd64"}, MaxParallel: 2},
		{Name: "any", Address: "tcp://127.0.0.1:1234"},
		{Name: "arm", Platforms: []string{"linux/arm64"}, Required: true},
	}
	cacheDir := filepath.Join(s.Dir, "cache", "base")
	for i := range s.Components {
		c := &s.Components[i]
		switch c.Name {
		case "base":
			c.CacheTo = []string{"type=registry,mode=max,ref=registry.invalid/cache/base", "type=local,dest=" + cacheDir}
		case "app":
			c.CacheFrom = []string{"type=local,src=" + cacheDir, "type=registry,ref=registry.invalid/cache/base"}
		case "static":
			c.Builder = "amd-2"
		}
	}
	return s
}

func compileFarm(t testing.TB, dir string) (*spec.Spec, *Plan) {
	t.Helper()
	s := farmSpec(t, dir)
	plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	return s, plan
}

// TestPlanRouting: each build records where the spec sends it and its cache imports and
// exports, local directories relative to the spec's, so the plan stays path-free.
func TestPlanRouting(t *testing.T) {
	t.Parallel()
	_, plan := compileFarm(t, copyProject(t))
	for _, tc := range []struct {
		id                      string
		builders, from, cacheTo []string
	}{
		{"app/linux/amd64", []string{"amd-1", "amd-2", "any"}, []string{"type=local,src=cache/base", "type=registry,ref=registry.invalid/cache/base"}, nil},
		{"app/linux/arm64", []string{"arm", "any"}, []string{"type=local,src=cache/base", "type=registry,ref=registry.invalid/cache/base"}, nil},
		{"base/linux/amd64", []string{"amd-1", "amd-2", "any"}, nil, []string{"type=registry,mode=max,ref=registry.invalid/cache/base", "type=local,dest=cache/base"}},
		{"static/linux/amd64", []string{"amd-2"}, nil, nil},
	} {
		b := plan.Build(tc.id)
		require.NotNil(t, b, tc.id)
		assert.Equal(t, tc.builders, b.Builders, tc.id)
		assert.Equal(t, tc.from, b.CacheFrom, tc.id)
		assert.Equal(t, tc.cacheTo, b.CacheTo, tc.id)
	}
	assert.Nil(t, compileProject(t, projectDir).Build("app/linux/amd64").Builders, "no builder block: the default local builder")

	golden(t, "plan-farm.txt", render(t, plan, "text"))
	golden(t, "plan-farm.dot", render(t, plan, "dot"))
	var jp struct {
		Builds []struct {
			ID        string   `json:"id"`
			CacheFrom []string `json:"cache_from"`
			CacheTo   []string `json:"cache_to"`
			Builders  []string `json:"builders"`
		} `json:"builds"`
	}
	require.NoError(t, json.Unmarshal(render(t, plan, "json"), &jp))
	for _, b := range jp.Builds {
		pb := plan.Build(b.ID)
		assert.Equal(t, pb.Builders, b.Builders, b.ID)
		assert.Equal(t, pb.CacheFrom, b.CacheFrom, b.ID)
		assert.Equal(t, pb.CacheTo, b.CacheTo, b.ID)
	}
}

// TestPlanRoutingPathFree: the same project in two directories gives the same builds.
func TestPlanRoutingPathFree(t *testing.T) {
	t.Parallel()
	_, a := compileFarm(t, copyProject(t))
	_, b := compileFarm(t, copyProject(t))
	assert.Equal(t, a.JSON(nil).Builds, b.JSON(nil).Builds)
}

// TestPlanFileRoutingTampered: a plan file that routes a build elsewhere or moves its cache
// is refused by Match, naming the build, the field and both values.
func TestPlanFileRoutingTampered(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, tr map[string]any)
		want string
	}{
		{"untouched", func(*testing.T, map[string]any) {}, ""},
		{"builders: a pinned build sent to another builder", func(t *testing.T, tr map[string]any) {
			fileBuildOf(t, tr, "static/linux/amd64")["builders"] = []any{"any"}
		}, `static (linux/amd64): builders[0]: the plan file says "any", the spec gives "amd-2"`},
		{"builders: one more candidate", func(t *testing.T, tr map[string]any) {
			b := fileBuildOf(t, tr, appARM)
			b["builders"] = append(b["builders"].([]any), "evil")
		}, `app (linux/arm64): builders[2]: the plan file has "evil", the spec does not produce it`},
		{"cache_to: exported elsewhere", func(t *testing.T, tr map[string]any) {
			fileBuildOf(t, tr, "base/linux/arm64")["cache_to"].([]any)[0] = "type=registry,mode=max,ref=evil.example/cache"
		}, `base (linux/arm64): cache_to[0]: the plan file says "type=registry,mode=max,ref=evil.example/cache", the spec gives "type=registry,mode=max,ref=registry.invalid/cache/base"`},
		{"cache_from: dropped", func(t *testing.T, tr map[string]any) {
			delete(fileBuildOf(t, tr, appAMD), "cache_from")
		}, `app (linux/amd64): cache_from: missing from the plan file`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			s, plan := compileFarm(t, dir)
			path := filepath.Join(dir, "t.plan")
			require.NoError(t, NewPlanFile(plan, s.Files).Save(path))
			editPlanFile(t, path, tc.edit)
			f, err := LoadPlanFile(path)
			require.NoError(t, err)
			_, err = f.Match(context.Background(), s, newFakeImages())
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrMismatch)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
