package registry

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestComponentBases(t *testing.T) {
	t.Parallel()
	both := []string{"linux/amd64", "linux/arm64"}
	tests := []struct {
		name       string
		dockerfile string
		args       map[string]string
		target     string
		contexts   []spec.NamedContext
		want       map[string][]string // ref → platforms
	}{
		{
			name:       "plain",
			dockerfile: "FROM alpine:3.20\nRUN true\n",
			want:       map[string][]string{"docker.io/library/alpine:3.20": both},
		},
		{
			name:       "ARG default and override",
			dockerfile: "ARG BASE=alpine\nARG VER=3.19\nFROM ${BASE}:$VER\n",
			args:       map[string]string{"VER": "3.20"},
			want:       map[string][]string{"docker.io/library/alpine:3.20": both},
		},
		{
			name: "stages, scratch, BUILDPLATFORM, COPY --from image",
			dockerfile: "FROM --platform=$BUILDPLATFORM golang:1.23 AS build\nRUN go build\n" +
				"FROM scratch AS out\nCOPY --from=build /x /x\nCOPY --from=busybox:1.36 /bin/busybox /bin/\n" +
				"FROM out\n",
			want: map[string][]string{
				"docker.io/library/golang:1.23":  {"linux/amd64"},
				"docker.io/library/busybox:1.36": both,
			},
		},
		{
			name:       "target selects reachable stages only",
			dockerfile: "FROM alpine:3.20 AS a\nFROM debian:12 AS b\nFROM a AS c\nRUN --mount=from=ubuntu:24.04,target=/u true\n",
			target:     "c",
			want: map[string][]string{
				"docker.io/library/alpine:3.20":  both,
				"docker.io/library/ubuntu:24.04": both,
			},
		},
		{
			name:       "named contexts",
			dockerfile: "FROM base\nCOPY --from=tools / /\nFROM registry.internal:5000/app/runtime:1 AS rt\nFROM rt\n",
			contexts: []spec.NamedContext{
				{Name: "base", Component: "other"},
				{Name: "tools", Image: "busybox:1.36"},
			},
			want: map[string][]string{
				"docker.io/library/busybox:1.36":       both,
				"registry.internal:5000/app/runtime:1": both,
			},
		},
		{
			name:       "TARGETARCH in FROM",
			dockerfile: "ARG TARGETARCH\nFROM example.org/base-${TARGETARCH}:1\n",
			want: map[string][]string{
				"example.org/base-amd64:1": {"linux/amd64"},
				"example.org/base-arm64:1": {"linux/arm64"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			df := filepath.Join(t.TempDir(), "Dockerfile")
			require.NoError(t, os.WriteFile(df, []byte(tt.dockerfile), 0o644))
			c := &spec.Component{Name: "app", Dockerfile: df, Args: tt.args, Target: tt.target, Platforms: both, Contexts: tt.contexts}
			reqs, err := ComponentBases(c, "linux/amd64")
			require.NoError(t, err)
			got := map[string][]string{}
			for _, r := range reqs {
				got[r.Ref] = r.Platforms
				assert.Equal(t, []string{"app"}, r.Components)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestComponentBasesErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, dockerfile, target, want string }{
		{"empty FROM", "ARG BASE\nFROM $BASE\n", "", "Dockerfile:2: FROM $BASE expands to nothing"},
		{"unknown target", "FROM alpine\n", "nope", `target stage "nope" not found`},
		{"bad ref", "FROM UPPER:case\n", "", "Dockerfile:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			df := filepath.Join(t.TempDir(), "Dockerfile")
			require.NoError(t, os.WriteFile(df, []byte(tt.dockerfile), 0o644))
			_, err := ComponentBases(&spec.Component{Name: "app", Dockerfile: df, Target: tt.target}, "")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), `component "app"`)
		})
	}
}

func TestBaseImagesDeduplicates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, n := range []string{"a", "b"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("FROM busybox:1.36\n"), 0o644))
	}
	s := &spec.Spec{Components: []spec.Component{
		{Name: "a", Dockerfile: filepath.Join(dir, "a"), Platforms: []string{"linux/amd64"}},
		{Name: "b", Dockerfile: filepath.Join(dir, "b"), Platforms: []string{"linux/arm64"}},
	}}
	reqs, err := BaseImages(s, "linux/amd64")
	require.NoError(t, err)
	assert.Equal(t, []ImageRequest{{Ref: "docker.io/library/busybox:1.36",
		Platforms: []string{"linux/amd64", "linux/arm64"}, Components: []string{"a", "b"}}}, reqs)
}
