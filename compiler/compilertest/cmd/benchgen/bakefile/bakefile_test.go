package bakefile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// bakeTarget is the part of a bake target Write fills.
type bakeTarget struct {
	Name       string            `hcl:"name,label"`
	Context    string            `hcl:"context,optional"`
	Dockerfile string            `hcl:"dockerfile,optional"`
	Target     string            `hcl:"target,optional"`
	Args       map[string]string `hcl:"args,optional"`
	Labels     map[string]string `hcl:"labels,optional"`
	Tags       []string          `hcl:"tags,optional"`
	Platforms  []string          `hcl:"platforms,optional"`
	Contexts   map[string]string `hcl:"contexts,optional"`
	Output     []string          `hcl:"output,optional"`
	CacheFrom  []string          `hcl:"cache-from,optional"`
	CacheTo    []string          `hcl:"cache-to,optional"`
	NoCache    bool              `hcl:"no-cache,optional"`
}

type bakeFile struct {
	Groups []struct {
		Name    string   `hcl:"name,label"`
		Targets []string `hcl:"targets"`
	} `hcl:"group,block"`
	Targets []bakeTarget `hcl:"target,block"`
}

func load(t *testing.T, hcl string, dirs ...string) *spec.Spec {
	t.Helper()
	dir := t.TempDir()
	for _, d := range dirs {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, d), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, d, "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	}
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "base", "build"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "base", "build", "Dockerfile.prod"), []byte("FROM scratch\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(hcl), 0o644))
	s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	require.False(t, diags.HasErrors(), diags.Error())
	return s
}

func TestWrite(t *testing.T) {
	t.Parallel()
	s := load(t, `
platforms = ["linux/amd64", "linux/arm64"]

component "base" {
  context    = "./base"
  dockerfile = "build/Dockerfile.prod"
  target     = "runtime"
  args       = { VERSION = "1.2" }
  labels     = { "org.opencontainers.image.title" = "base" }
  tags       = ["127.0.0.1:5000/bench/base:v1"]
  cache_from = ["type=registry,ref=127.0.0.1:5000/cache/base"]
  no_cache   = true
}

component "app" {
  context   = "./app"
  platforms = ["linux/arm64"]
  contexts  = { base = component.base, alpine = "docker-image://alpine:3.20", assets = "./assets" }
  output    = "oci"
  output_path = "out/app.tar"
}
`, "base", "app", "assets")
	b, err := Write(s)
	require.NoError(t, err)
	again, err := Write(s)
	require.NoError(t, err)
	assert.Equal(t, string(b), string(again), "the same spec gives the same bytes")

	f, diags := hclparse.NewParser().ParseHCL(b, FileName)
	require.False(t, diags.HasErrors(), diags.Error())
	var got bakeFile
	require.False(t, gohcl.DecodeBody(f.Body, nil, &got).HasErrors())
	require.Len(t, got.Groups, 1)
	assert.Equal(t, "default", got.Groups[0].Name)
	assert.Equal(t, []string{"base", "app"}, got.Groups[0].Targets)
	assert.Equal(t, []bakeTarget{{
		Name: "base", Context: "./base", Dockerfile: "build/Dockerfile.prod", Target: "runtime",
		Args: map[string]string{"VERSION": "1.2"}, Labels: map[string]string{"org.opencontainers.image.title": "base"},
		Tags: []string{"127.0.0.1:5000/bench/base:v1"}, Platforms: []string{"linux/amd64", "linux/arm64"},
		Output: []string{"type=registry"}, CacheFrom: []string{"type=registry,ref=127.0.0.1:5000/cache/base"}, NoCache: true,
	}, {
		Name: "app", Context: "./app", Platforms: []string{"linux/arm64"},
		Contexts: map[string]string{"base": "target:base", "alpine": "docker-image://alpine:3.20", "assets": "./assets"},
		Output:   []string{"type=oci,dest=./out/app.tar"},
	}}, got.Targets)
}

// TestWriteRefuses: what bake would build differently is an error naming it, never a
// silently different bake file.
func TestWriteRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, attrs, want string }{
		{"secrets", `secrets = ["tok"]`, "secrets"},
		{"extra_hosts", `extra_hosts = { db = "10.0.0.1" }`, "extra_hosts"},
		{"network", `network = "none"`, "network"},
		{"platform args", `args = { ARCH = platform.arch }`, "platform-dependent args"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := load(t, `
secret "tok" { env = "TOK" }
component "app" {
  context = "./app"
  `+tc.attrs+`
}
`, "app")
			_, err := Write(s)
			require.Error(t, err)
			assert.Contains(t, err.Error(), `component "app"`)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
