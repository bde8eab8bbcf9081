package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/compiler/compilertest"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const initTestdata = "../../testdata/init"

// initRepo copies the fixture repository of Dockerfiles into a temp dir.
func initRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(initTestdata, "repo"))))
	return dir
}

func runInit(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	none := filepath.Join(t.TempDir(), "none.json")
	code := run(append([]string{"init", "--daemon-json", none, "--docker-config", none}, args...), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

// TestInitThenPlan writes a spec for the fixture repository, then plans it in-process.
func TestInitThenPlan(t *testing.T) {
	dir := initRepo(t)
	code, _, stderr := runInit(t, dir, "--platform", "linux/amd64")
	require.Equal(t, exitOK, code, stderr)
	specPath := filepath.Join(dir, "archbuild.hcl")
	assert.Contains(t, stderr, "archc init: wrote "+specPath)
	assert.Contains(t, stderr, `component "web-prod" (from web/Dockerfile.prod)`)
	s, diags := spec.Load(spec.LoadOptions{Files: []string{specPath}})
	require.False(t, diags.HasErrors(), diags.Error())
	cacheDir := filepath.Join(t.TempDir(), "cache")
	_, err := compilertest.WarmLock(s, cacheDir, "linux/amd64")
	require.NoError(t, err)
	var stdout, errOut bytes.Buffer
	code = run(planArgs(specPath, cacheDir, "--locked"), &stdout, &errOut)
	require.Equal(t, exitOK, code, errOut.String())
	for _, c := range []string{"services-api", "tools-api", "web", "web-prod", "worker"} {
		assert.Contains(t, stdout.String(), c)
	}
}

func TestInitNeverOverwrites(t *testing.T) {
	dir := initRepo(t)
	specPath := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(specPath, []byte("# mine\n"), 0o644))

	code, _, stderr := runInit(t, dir)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "exists: --force overwrites it, --dry-run prints the new one")
	got, _ := os.ReadFile(specPath)
	assert.Equal(t, "# mine\n", string(got))

	code, stdout, stderr := runInit(t, dir, "--dry-run")
	assert.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `component "web" {`)
	assert.Contains(t, stderr, "dry run, "+specPath+" not written")
	got, _ = os.ReadFile(specPath)
	assert.Equal(t, "# mine\n", string(got), "--dry-run writes nothing")

	code, _, stderr = runInit(t, dir, "--force")
	assert.Equal(t, exitOK, code, stderr)
	got, _ = os.ReadFile(specPath)
	assert.Equal(t, stdout, string(got), "--force writes what --dry-run printed")
}

// TestInitProxyFromEnvironment: the environment's proxy becomes the proxy block, its
// credentials a sensitive variable, and the password appears nowhere.
func TestInitProxyFromEnvironment(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://bob:s3cr3t-pw@proxy.corp:3128")
	t.Setenv("NO_PROXY", "localhost")
	dir := initRepo(t)
	code, stdout, stderr := runInit(t, dir, "--dry-run")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, `https_proxy = "http://${var.PROXY_CREDENTIALS}@proxy.corp:3128"`)
	assert.Contains(t, stderr, "set ARCHC_VAR_PROXY_CREDENTIALS")
	assert.NotContains(t, stdout+stderr, "s3cr3t-pw")
}

// TestEnvProxyNote: with a proxy in the environment and none in the spec, a command that
// loads the spec says so once, without the password; with a proxy block it says nothing.
func TestEnvProxyNote(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://bob:s3cr3t-pw@proxy.corp:3128")
	t.Setenv("https_proxy", "http://bob:s3cr3t-pw@proxy.corp:3128")
	t.Setenv("HTTP_PROXY", "http://proxy.corp:3128")
	dir := initRepo(t)
	code, _, stderr := runInit(t, dir, "--platform", "linux/amd64")
	require.Equal(t, exitOK, code, stderr)
	specPath := filepath.Join(dir, "archbuild.hcl")
	t.Setenv("ARCHC_VAR_PROXY_CREDENTIALS", "bob:s3cr3t-pw")
	var out, errOut bytes.Buffer
	require.Equal(t, exitOK, run([]string{"validate", specPath}, &out, &errOut), errOut.String())
	assert.NotContains(t, errOut.String(), "not used", "the spec declares a proxy")

	bare := filepath.Join(dir, "bare.hcl")
	require.NoError(t, os.WriteFile(bare, []byte("component \"web\" {\n  context = \"./web\"\n}\n"), 0o644))
	out.Reset()
	errOut.Reset()
	require.Equal(t, exitOK, run([]string{"validate", bare}, &out, &errOut), errOut.String())
	assert.Equal(t, 1, strings.Count(errOut.String(), "is set in the environment but not used"), errOut.String())
	assert.Contains(t, errOut.String(), `HTTPS_PROXY is set in the environment but not used`)
	assert.Contains(t, errOut.String(), `proxy { https_proxy = "http://xxxxx@proxy.corp:3128" }`)
	assert.Contains(t, errOut.String(), "archc init")
	assert.NotContains(t, errOut.String(), "s3cr3t-pw")
}

func TestInitFromBake(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "bake")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(initTestdata, "bake"))))
	code, stdout, stderr := runInit(t, dir, "--dry-run", "--from-bake", filepath.Join(dir, "docker-bake.hcl"))
	require.Equal(t, exitOK, code, stderr)
	want, err := os.ReadFile(filepath.Join(initTestdata, "golden", "bake.hcl"))
	require.NoError(t, err)
	assert.Equal(t, string(want), stdout)
	assert.Contains(t, stderr, "not carried over: contexts.src (https://...), output, secret, inherits")
}
