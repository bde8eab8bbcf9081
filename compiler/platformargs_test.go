package compiler

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlatformArgsPerBuild: a component whose args differ per target platform (args using
// platform.arch in the spec) compiles each platform with its own args: the plan records
// them per build, and an ARG in FROM picks a different base per platform.
func TestPlatformArgsPerBuild(t *testing.T) {
	t.Parallel()
	s := projectSpec(t, projectDir)
	base := &s.Components[0]
	require.Equal(t, "base", base.Name)
	base.Args = nil
	base.PlatformArgs = map[string]map[string]string{
		"linux/amd64": {"ALPINE_VERSION": "3.20", "ARCH": "amd64"},
		"linux/arm64": {"ALPINE_VERSION": "3.19", "ARCH": "arm64"},
	}
	plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	for _, tc := range []struct{ build, alpine, arch string }{
		{"base/linux/amd64", "alpine:3.20", "amd64"},
		{"base/linux/arm64", "alpine:3.19", "arm64"},
	} {
		b := plan.Build(tc.build)
		require.NotNil(t, b, tc.build)
		assert.Equal(t, map[string]string{"ALPINE_VERSION": tc.alpine[len("alpine:"):], "ARCH": tc.arch}, b.Args, tc.build)
		var ids []string
		for _, src := range sources(t, b.Definition, "docker-image://docker.io/library/alpine") {
			ids = append(ids, src.Identifier)
		}
		require.Len(t, ids, 1, tc.build)
		img, err := newFakeImages().Image(context.Background(), "docker.io/library/"+tc.alpine, mustPlatform(t, tc.build[len("base/"):]))
		require.NoError(t, err)
		assert.Equal(t, "docker-image://docker.io/library/alpine@"+img.Digest.String(), ids[0], "%s: pinned from %s", tc.build, tc.alpine)
	}
}
