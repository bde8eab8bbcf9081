package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLoadFullIssue13 checks the attributes CI builds need, as full.hcl sets them.
func TestLoadFullIssue13(t *testing.T) {
	t.Parallel()
	s := mustLoad(t, LoadOptions{Files: []string{filepath.Join(testdata, "good", "full.hcl")}})
	abs, err := filepath.Abs(filepath.Join(testdata, "good"))
	require.NoError(t, err)

	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, s.BuildPlatforms, "normalized")
	require.Len(t, s.Secrets, 2)
	assert.Equal(t, Secret{ID: "npm_token", Env: "NPM_TOKEN", Range: s.Secrets[0].Range}, s.Secrets[0], "sorted by id")
	assert.Equal(t, Secret{ID: "pip_conf", File: filepath.Join(abs, "../secrets/pip.conf"), Range: s.Secrets[1].Range}, s.Secrets[1],
		"relative to the spec file; need not exist at load")
	require.Len(t, s.SSH, 2)
	assert.Equal(t, "default", s.SSH[0].ID)
	assert.Empty(t, s.SSH[0].Paths, "the agent at SSH_AUTH_SOCK")
	assert.Equal(t, []string{filepath.Join(abs, "../keys/deploy_ed25519")}, s.SSH[1].Paths)

	app := s.Component("app")
	require.NotNil(t, app)
	assert.Equal(t, []string{"npm_token", "pip_conf"}, app.Secrets, "sorted, once each")
	assert.Equal(t, []string{"default"}, app.SSH)
	assert.Equal(t, []string{EntitlementNetworkHost, EntitlementSecurityInsecure}, app.Allow)
	assert.Equal(t, map[string]string{"git.internal": "10.0.0.7", "v6.internal": "fd00::7"}, app.ExtraHosts)
	assert.Equal(t, NetworkHost, app.Network)
	assert.Equal(t, "128m", app.ShmSize)
	assert.Equal(t, []string{"nofile=1024:2048", "nproc=512"}, app.Ulimits)
	assert.False(t, app.NoCache)
	assert.Equal(t, []string{"build", "test"}, app.NoCacheFilter)

	lib := s.Component("lib")
	assert.Empty(t, lib.Secrets, "a component gets only the secrets it lists")
	assert.Empty(t, lib.SSH)
	assert.Empty(t, lib.Allow)
	assert.Equal(t, "", lib.Network)

	multi := s.Component("multi")
	require.NotNil(t, multi)
	assert.True(t, multi.NoCache)
	assert.Equal(t, NetworkNone, multi.Network)

	load := s.Component("load")
	require.NotNil(t, load)
	assert.Equal(t, OutputDocker, load.Output)
	assert.Equal(t, filepath.Join(abs, "../out/load.tar"), load.OutputPath)
	assert.Equal(t, []string{"r.invalid:5000/team/load:1.2.3"}, load.Tags)
}

// TestDockerOutputPathOptional: output = "docker" without output_path loads into a Docker
// engine at apply, so the spec accepts it.
func TestDockerOutputPathOptional(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := abs(t, filepath.Join(testdata, "ctx", "app"))
	file := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(file, []byte(`component "a" {
  context = "`+filepath.ToSlash(ctx)+`"
  tags    = ["r.invalid/a:1"]
  output  = "docker"
}
`), 0o644))
	s, diags := Load(LoadOptions{Files: []string{file}})
	require.Empty(t, diags)
	assert.Equal(t, OutputDocker, s.Components[0].Output)
	assert.Equal(t, "", s.Components[0].OutputPath)
}

// TestPlatformArgs: args that use platform are evaluated once per target platform; a null
// arg is left out; ArgsFor answers for every platform and for either spelling of one.
func TestPlatformArgs(t *testing.T) {
	t.Parallel()
	s := mustLoad(t, LoadOptions{Files: []string{filepath.Join(testdata, "good", "full.hcl")}})
	multi := s.Component("multi")
	require.NotNil(t, multi)
	assert.Nil(t, multi.Args)
	want := map[string]map[string]string{
		"linux/amd64":  {"ARCH": "amd64", "TRIPLE": "linux-amd64", "VERSION": "1.2.3"},
		"linux/arm64":  {"ARCH": "arm64", "TRIPLE": "linux-arm64", "VERSION": "1.2.3"},
		"linux/arm/v7": {"ARCH": "arm", "TRIPLE": "linux-armv7", "VARIANT": "v7", "VERSION": "1.2.3"},
	}
	assert.Equal(t, want, multi.PlatformArgs)
	for p, args := range want {
		assert.Equal(t, args, multi.ArgsFor(p), p)
	}
	assert.Equal(t, want["linux/arm64"], multi.ArgsFor("linux/aarch64"), "normalized")
	assert.Equal(t, want["linux/amd64"], multi.ArgsFor("linux/x86_64"))

	app := s.Component("app")
	assert.Nil(t, app.PlatformArgs)
	assert.Equal(t, app.Args, app.ArgsFor("linux/amd64"), "args without platform: the same on every platform")
}

// TestPlatformArgsTwoPlatforms is the issue's example: a two-platform component whose
// Dockerfile takes the architecture as an ARG.
func TestPlatformArgsTwoPlatforms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, err := filepath.Abs(filepath.Join(testdata, "ctx", "app"))
	require.NoError(t, err)
	file := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(file, []byte(`
platforms = ["linux/amd64", "linux/arm64"]
component "prometheus" {
  context = "`+filepath.ToSlash(ctx)+`"
  args    = { ARCH = platform.arch, OS = platform.os, GOARM = null }
}
`), 0o644))
	s := mustLoad(t, LoadOptions{Files: []string{file}})
	c := s.Component("prometheus")
	assert.Equal(t, map[string]string{"ARCH": "amd64", "OS": "linux"}, c.ArgsFor("linux/amd64"))
	assert.Equal(t, map[string]string{"ARCH": "arm64", "OS": "linux"}, c.ArgsFor("linux/arm64"))
}

// TestMergeIssue13: secret, ssh and build_platforms merge like every block and attribute;
// a later file that sets one source of a secret replaces the other.
func TestMergeIssue13(t *testing.T) {
	t.Parallel()
	base := filepath.Join(testdata, "merge", "base.hcl")
	over := filepath.Join(testdata, "merge", "over", "override.hcl")
	abs, err := filepath.Abs(filepath.Join(testdata, "merge"))
	require.NoError(t, err)

	s := mustLoad(t, LoadOptions{Files: []string{base, over}})
	assert.Equal(t, []string{"linux/arm64"}, s.BuildPlatforms, "later file wins")
	require.Len(t, s.Secrets, 1)
	assert.Equal(t, "", s.Secrets[0].Env, "file replaced env")
	assert.Equal(t, filepath.Join(abs, "over", "token.txt"), s.Secrets[0].File, "relative to the file that wrote it")
	app := s.Component("app")
	assert.Equal(t, []string{"token"}, app.Secrets, "kept from the first file")
	assert.Equal(t, NetworkHost, app.Network, "from the second file")
	assert.Equal(t, []string{EntitlementNetworkHost}, app.Allow, "the first file's allow grants the second's network")

	s = mustLoad(t, LoadOptions{Files: []string{over, base}})
	assert.Equal(t, []string{"linux/amd64"}, s.BuildPlatforms)
	assert.Equal(t, "TOKEN", s.Secrets[0].Env, "env replaced file")
	assert.Equal(t, "", s.Secrets[0].File)
}

// TestNormalizedIssue13: validate --json shows every new attribute; a secret by id and
// source (the variable's name, the file's relative path), never its value, which the spec
// does not read.
func TestNormalizedIssue13(t *testing.T) {
	t.Parallel()
	s := mustLoad(t, LoadOptions{Files: []string{filepath.Join(testdata, "good", "full.hcl")},
		Environ: []string{"NPM_TOKEN=s3cret-npm-value"}})
	n := s.Normalized()
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, n.BuildPlatforms)
	assert.Equal(t, map[string]NormalizedSecret{
		"npm_token": {Env: "NPM_TOKEN", Source: "env"},
		"pip_conf":  {File: "../secrets/pip.conf", Source: "file"},
	}, n.Secrets)
	assert.Equal(t, map[string]NormalizedSSH{
		"default": {Paths: []string{}, Source: "agent"},
		"deploy":  {Paths: []string{"../keys/deploy_ed25519"}, Source: "paths"},
	}, n.SSH)
	byName := map[string]NormalizedComponent{}
	for _, c := range n.Components {
		byName[c.Name] = c
	}
	app := byName["app"]
	assert.Equal(t, []string{"npm_token", "pip_conf"}, app.Secrets)
	assert.Equal(t, []string{"default"}, app.SSH)
	assert.Equal(t, []string{"network.host", "security.insecure"}, app.Allow)
	assert.Equal(t, "host", app.Network)
	assert.Equal(t, "128m", app.ShmSize)
	assert.Equal(t, []string{"nofile=1024:2048", "nproc=512"}, app.Ulimits)
	assert.Equal(t, []string{"build", "test"}, app.NoCacheFilter)
	assert.Equal(t, map[string]string{"git.internal": "10.0.0.7", "v6.internal": "fd00::7"}, app.ExtraHosts)
	assert.Equal(t, "default", byName["lib"].Network, "the default filled in")
	assert.Equal(t, map[string]map[string]string{}, byName["lib"].PlatformArgs)
	multi := byName["multi"]
	assert.Equal(t, map[string]string{}, multi.Args)
	assert.Equal(t, "arm64", multi.PlatformArgs["linux/arm64"]["ARCH"])
	assert.True(t, multi.NoCache)
	assert.Equal(t, "docker", byName["load"].Output)
	assert.Equal(t, "../out/load.tar", byName["load"].OutputPath)

	out, err := json.Marshal(n)
	require.NoError(t, err)
	assert.NotContains(t, string(out), "s3cret-npm-value")
	assert.NotContains(t, string(out), abs(t, testdata), "no absolute path")
}

func abs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}
