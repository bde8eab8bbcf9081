package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// varProject is the compiler's test project with two variables set from outside: TAG
// (a tag) and PROXY_PW (the proxy password, a secret).
func varProject(t *testing.T) (string, string) {
	t.Helper()
	specPath, cacheDir := planProject(t, true)
	dt, err := os.ReadFile(specPath)
	require.NoError(t, err)
	hcl := strings.ReplaceAll(string(dt), "alice:s3cr3t-pw@", "alice:${var.PROXY_PW}@")
	hcl = strings.Replace(hcl, `"registry.invalid/app:latest"`, `"registry.invalid/app:${var.TAG}"`, 1)
	hcl += "\nvariable \"TAG\" {\n  default = \"latest\"\n}\n\nvariable \"PROXY_PW\" {\n  default   = \"none\"\n  sensitive = true\n}\n"
	require.NoError(t, os.WriteFile(specPath, []byte(hcl), 0o644))
	return specPath, cacheDir
}

// TestApplyPlanFileWithVars: `archc plan --var ... -out F` then `archc apply F` builds what
// was planned (here: --dry-run), although the variables are not given again and the content
// cache is cold; the variables' values never show.
func TestApplyPlanFileWithVars(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := varProject(t)
	planFile := filepath.Join(t.TempDir(), "v.plan")
	code, out, errs := runArchc(planArgs(specPath, cacheDir, "--var", "TAG=1.0", "--var", "PROXY_PW=s3cr3t-pw", "--out", planFile)...)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "registry.invalid/app:1.0")

	coldCache := filepath.Join(t.TempDir(), "cold")
	code, out, errs = runArchc("apply", planFile, "--dry-run", "--cache-dir", coldCache)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "registry.invalid/app:1.0")
	assert.Contains(t, errs, planFile+" matches the spec, the lock and the contexts (taken from the plan file: build platform linux/amd64; variables PROXY_PW, TAG).")
	assert.NotContains(t, out+errs, "s3cr3t-pw")

	code, _, errs = runArchc("apply", planFile, "--dry-run", "--build-platform", "linux/arm64")
	assert.Equal(t, exitUsage, code, errs)
	assert.Contains(t, errs, "--build-platform linux/arm64: the plan was made for build platform linux/amd64")
	code, _, errs = runArchc("apply", planFile, "--dry-run", "--build-platform", "linux/amd64", "--cache-dir", coldCache)
	assert.Equal(t, 0, code, errs)

	code, _, errs = runArchc("apply", planFile, "--dry-run", "--var", "TAG=2.0")
	assert.Equal(t, exitUsage, code, errs)
	assert.Contains(t, errs, "--var cannot be combined with a plan file")

	// The spec still counts: another tag in the spec file is a change.
	dt, err := os.ReadFile(specPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(specPath, []byte(strings.Replace(string(dt), "app:dev", "app:other", 1)), 0o644))
	code, _, errs = runArchc("apply", planFile, "--dry-run")
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errs, "the spec changed")
}

// TestApplyPlanFileWithEnvVars: a variable set with ARCHC_VAR_NAME at plan time is kept too.
// Not parallel: it sets the environment.
func TestApplyPlanFileWithEnvVars(t *testing.T) {
	specPath, cacheDir := varProject(t)
	planFile := filepath.Join(t.TempDir(), "v.plan")
	t.Setenv("ARCHC_VAR_TAG", "3.0")
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--out", planFile)...)
	require.Equal(t, 0, code, errs)
	require.NoError(t, os.Unsetenv("ARCHC_VAR_TAG"))
	code, out, errs := runArchc("apply", planFile, "--dry-run", "--cache-dir", cacheDir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "registry.invalid/app:3.0")
}

// TestApplyPlanFileAfterAVariableWasRemoved: a plan file made with --var TAG=1.0, applied
// after variable "TAG" left the spec, is refused as stale, naming the variable; it does
// not tell the user to drop a --var they never typed.
func TestApplyPlanFileAfterAVariableWasRemoved(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := varProject(t)
	planFile := filepath.Join(t.TempDir(), "v.plan")
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--var", "TAG=1.0", "--var", "PROXY_PW=s3cr3t-pw", "--out", planFile)...)
	require.Equal(t, 0, code, errs)

	dt, err := os.ReadFile(specPath)
	require.NoError(t, err)
	hcl := strings.Replace(string(dt), "variable \"TAG\" {\n  default = \"latest\"\n}\n", "", 1)
	hcl = strings.Replace(hcl, "${var.TAG}", "latest", 1)
	require.NotEqual(t, string(dt), hcl)
	require.NoError(t, os.WriteFile(specPath, []byte(hcl), 0o644))

	code, out, errs := runArchc("apply", planFile, "--dry-run", "--cache-dir", cacheDir)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errs, "refusing to apply "+planFile+": plan is stale: the spec no longer declares variable TAG, set when the plan was made; run `archc plan -out` again")
	assert.NotContains(t, errs, "drop the flag")
	assert.NotContains(t, out+errs, "s3cr3t-pw")
}

// TestPlanSpecDigestIgnoresVariableValues: spec_digest is published; a secret variable must
// not change it (or it could be guessed from the digest).
func TestPlanSpecDigestIgnoresVariableValues(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := varProject(t)
	digestWith := func(pw string) string {
		code, out, errs := runArchc(planArgs(specPath, cacheDir, "--format", "json", "--var", "PROXY_PW="+pw)...)
		require.Equal(t, 0, code, errs)
		assert.NotContains(t, out+errs, pw)
		var p struct {
			SpecDigest string `json:"spec_digest"`
		}
		require.NoError(t, json.Unmarshal([]byte(out), &p))
		return p.SpecDigest
	}
	assert.Equal(t, digestWith("guess-one"), digestWith("guess-two"))
}

// TestApplyPlanFileEditedOutputs is issue 11's case: a plan file whose first output was
// edited to another repository is refused, naming the build, the field and both values,
// before anything is built; the untouched file is applied.
func TestApplyPlanFileEditedOutputs(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	planFile := filepath.Join(t.TempDir(), "t.plan")
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--out", planFile)...)
	require.Equal(t, 0, code, errs)
	code, out, errs := runArchc("apply", planFile, "--dry-run", "--cache-dir", cacheDir)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "registry.invalid/app:dev")

	dt, err := os.ReadFile(planFile)
	require.NoError(t, err)
	edited := strings.Replace(string(dt), `"name": "registry.invalid/app:dev"`, `"name": "registry.invalid/evil/x:1"`, 1)
	require.NotEqual(t, string(dt), edited)
	require.NoError(t, os.WriteFile(planFile, []byte(edited), 0o600))

	code, out, errs = runArchc("apply", planFile, "--dry-run", "--cache-dir", cacheDir)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errs, "refusing to apply "+planFile+": the plan file is not what the spec produces: "+
		`app (linux/amd64): outputs[0].name: the plan file says "registry.invalid/evil/x:1", the spec gives "registry.invalid/app:dev"`)
	assert.NotContains(t, out, "evil", "nothing of the edited plan is shown as what will be built")
}
