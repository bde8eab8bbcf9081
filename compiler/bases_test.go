package compiler

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oneComponent is a spec of one component "app" built for amd64 and arm64 from dockerfile,
// in a fresh directory that also holds an empty directory "assets".
func oneComponent(t *testing.T, dockerfile string, c spec.Component) *spec.Spec {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "assets"), 0o755))
	c.Name, c.Context, c.Dockerfile = "app", dir, filepath.Join(dir, "Dockerfile")
	c.Platforms, c.Output = []string{"linux/amd64", "linux/arm64"}, spec.OutputCacheOnly
	return &spec.Spec{Files: []string{filepath.Join(dir, "archbuild.hcl")}, Dir: dir, Components: []spec.Component{c}}
}

func TestDiscoverBases(t *testing.T) {
	t.Parallel()
	both := []string{"linux/amd64", "linux/arm64"}
	tests := []struct {
		name       string
		dockerfile string
		comp       spec.Component
		want       map[string][]string // ref → platforms
	}{
		{name: "plain", dockerfile: "FROM alpine:3.20\nRUN true\n",
			want: map[string][]string{"docker.io/library/alpine:3.20": both}},
		{name: "ARG default and override", dockerfile: "ARG BASE=alpine\nARG VER=3.19\nFROM ${BASE}:$VER\n",
			comp: spec.Component{Args: map[string]string{"VER": "3.20"}},
			want: map[string][]string{"docker.io/library/alpine:3.20": both}},
		{name: "stages, scratch, BUILDPLATFORM, COPY --from image",
			dockerfile: "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nRUN go build\n" +
				"FROM scratch AS out\nCOPY --from=build /x /x\nCOPY --from=busybox:1.36 /bin/busybox /bin/\n" +
				"FROM out\n",
			want: map[string][]string{"docker.io/library/golang:1.23": {"linux/amd64"}, "docker.io/library/busybox:1.36": both}},
		{name: "target selects reachable stages only",
			dockerfile: "FROM alpine:3.20 AS a\nFROM debian:12 AS b\nFROM a AS c\nRUN --mount=from=ubuntu:24.04,target=/u true\n",
			comp:       spec.Component{Target: "c"},
			want:       map[string][]string{"docker.io/library/alpine:3.20": both, "docker.io/library/ubuntu:24.04": both}},
		{name: "named contexts",
			dockerfile: "FROM assets AS a\nFROM registry.internal:5000/app/runtime:1\nCOPY --from=tools / /\nCOPY --from=a / /\n",
			comp: spec.Component{Contexts: []spec.NamedContext{
				{Name: "assets", Path: "assets"}, {Name: "tools", Image: "busybox:1.36"}}},
			want: map[string][]string{"docker.io/library/busybox:1.36": both, "registry.internal:5000/app/runtime:1": both}},
		{name: "TARGETARCH in FROM", dockerfile: "ARG TARGETARCH\nFROM example.org/base-${TARGETARCH}:1\n",
			want: map[string][]string{"example.org/base-amd64:1": {"linux/amd64"}, "example.org/base-arm64:1": {"linux/arm64"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := oneComponent(t, tt.dockerfile, tt.comp)
			for i, nc := range s.Components[0].Contexts {
				if nc.Path != "" {
					s.Components[0].Contexts[i].Path = filepath.Join(s.Dir, nc.Path)
				}
			}
			reqs, plan, err := DiscoverBases(context.Background(), s, WithBuildPlatform("linux/amd64"))
			require.NoError(t, err)
			assert.Len(t, plan.Builds, 2)
			got := map[string][]string{}
			for _, r := range reqs {
				got[r.Ref] = r.Platforms
				assert.Equal(t, []string{"app"}, r.Components)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestDiscoverBasesErrors: the errors are BuildKit's own, as the daemon's frontend gives them.
func TestDiscoverBasesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, dockerfile, target, want string }{
		{"COPY --from=${ARG}", "ARG SRC=busybox\nFROM alpine\nCOPY --from=${SRC} / /\n", "",
			"variable expansion is not supported for --from, define a new stage with FROM using ARG from global scope as a workaround"},
		{"empty FROM", "ARG BASE\nFROM $BASE\n", "", "Dockerfile:2"},
		{"unknown target", "FROM alpine\n", "nope", `target stage "nope" could not be found`},
		{"bad ref", "FROM UPPER:case\n", "", "Dockerfile:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := oneComponent(t, tt.dockerfile, spec.Component{Target: tt.target})
			_, _, err := DiscoverBases(context.Background(), s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "app/linux/")
		})
	}
}

func TestDiscoverBasesDeduplicates(t *testing.T) {
	t.Parallel()
	s := oneComponent(t, "FROM busybox:1.36\n", spec.Component{})
	b := s.Components[0]
	b.Name, b.Platforms = "b", []string{"linux/arm64"}
	s.Components[0].Platforms = []string{"linux/amd64"}
	s.Components = append(s.Components, b)
	reqs, _, err := DiscoverBases(context.Background(), s)
	require.NoError(t, err)
	assert.Equal(t, []registry.ImageRequest{{Ref: "docker.io/library/busybox:1.36",
		Platforms: []string{"linux/amd64", "linux/arm64"}, Components: []string{"app", "b"}}}, reqs)
}
