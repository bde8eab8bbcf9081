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

// TestConventions: the command-line habits users bring from other tools.
func TestConventions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr []string // substrings
	}{
		{name: "--version", args: []string{"--version"}, code: exitOK, stdout: []string{"archc dev (buildkit v0.34.2)\n"}},
		{name: "--version after a verb", args: []string{"plan", "--version"}, code: exitOK, stdout: []string{"archc dev (buildkit"}},
		{name: "bare prints the usage", args: nil, code: exitUsage, stdout: []string{"Usage: archc <command>", "apply", "fmt", "show"}},
		{name: "build", args: []string{"build"}, code: exitUsage, stderr: []string{"archc: unknown command build\n", "hint: did you mean `archc apply`?"}},
		{name: "bake", args: []string{"bake", "x.hcl"}, code: exitUsage, stderr: []string{"did you mean `archc apply`?"}},
		{name: "print", args: []string{"print"}, code: exitUsage, stderr: []string{"did you mean `archc plan`?"}},
		{name: "check", args: []string{"check"}, code: exitUsage, stderr: []string{"did you mean `archc doctor`?"}},
		{name: "typo", args: []string{"--no-color", "plna"}, code: exitUsage, stderr: []string{"did you mean `archc plan`?"}},
		{name: "apply --help", args: []string{"apply", "--help"}, code: exitOK, stdout: []string{"PLANFILE", "archc plan -out PLANFILE"}},
		{name: "show --help", args: []string{"show", "--help"}, code: exitOK, stdout: []string{"PLANFILE", "not that the plan is still current"}},
		{name: "builder help", args: []string{"builder", "--help"}, code: exitOK, stdout: []string{"prune", "du"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runArchc(tt.args...)
			assert.Equal(t, tt.code, code, "stdout=%s\nstderr=%s", stdout, stderr)
			for _, s := range tt.stdout {
				assert.Contains(t, stdout, s)
			}
			for _, s := range tt.stderr {
				assert.Contains(t, stderr, s)
			}
		})
	}
}

// TestCompareNeedsJSONPlan: --compare given a plan file or a text plan says what it needs,
// before compiling anything.
func TestCompareNeedsJSONPlan(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	dir := t.TempDir()
	planFile, textPlan := filepath.Join(dir, "plan.bin"), filepath.Join(dir, "plan.txt")
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--out", planFile)...)
	require.Equal(t, 0, code, errs)
	code, out, errs := runArchc(planArgs(specPath, cacheDir)...)
	require.Equal(t, 0, code, errs)
	require.NoError(t, os.WriteFile(textPlan, []byte(out), 0o644))

	code, _, errs = runArchc(planArgs(specPath, cacheDir, "--compare", planFile)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "is a plan file (plan -out)")
	assert.Contains(t, errs, "archc plan --format json > OLD.json")
	assert.Contains(t, errs, "archc show "+planFile+" --format json")

	code, _, errs = runArchc(planArgs(specPath, cacheDir, "--compare", textPlan)...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "is not JSON (a text plan?)")

	// What the message suggests works: show's JSON is a plan --compare reads.
	jsonPlan := filepath.Join(dir, "old.json")
	code, out, errs = runArchc("show", planFile, "--format", "json")
	require.Equal(t, 0, code, errs)
	require.NoError(t, os.WriteFile(jsonPlan, []byte(out), 0o644))
	code, out, errs = runArchc(planArgs(specPath, cacheDir, "--compare", jsonPlan, "--detailed-exitcode")...)
	assert.Equal(t, 0, code, errs)
	assert.NotEmpty(t, out)
}

// TestShow: show renders a saved plan as plan prints it, without the spec.
func TestShow(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	planFile := filepath.Join(t.TempDir(), "plan.bin")
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--out", planFile)...)
	require.Equal(t, 0, code, errs)
	_, planned, _ := runArchc(planArgs(specPath, cacheDir)...)
	require.NoError(t, os.Remove(specPath), "show needs no spec")

	code, shown, errs := runArchc("show", planFile)
	require.Equal(t, 0, code, errs)
	// The same builds as plan printed (plan adds what apply expects, show has no builder).
	for _, line := range strings.Split(planned, "\n") {
		if strings.HasPrefix(line, "  llb ") || strings.HasPrefix(line, "  base ") || strings.HasPrefix(line, "  output ") {
			assert.Contains(t, shown, line)
		}
	}
	assert.NotContains(t, shown, "s3cr3t-pw")

	code, _, errs = runArchc("show", filepath.Join(compilerTestdata, "project", "archbuild.hcl"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "is not a plan file")
}

// TestPlanShowsVariables: the plan header lists the variables with their sources; a
// sensitive one is masked; TAG=... without the prefix warns.
func TestPlanShowsVariables(t *testing.T) {
	t.Setenv("TAG", "from-bare-env") // not parallel: the environment
	t.Setenv("ARCHC_VAR_REGION", "eu")
	specPath, cacheDir := planProject(t, true)
	extra := filepath.Join(filepath.Dir(specPath), "vars.hcl")
	require.NoError(t, os.WriteFile(extra, []byte(`
variable "TAG" { default = "dev" }
variable "REGION" { default = "us" }
variable "PASSWORD" {
  default   = "hunter2-s3cr3t"
  sensitive = true
}
variable "MODE" { default = "fast" }
`), 0o644))
	code, out, errs := runArchc(planArgs(specPath, cacheDir, "-f", extra, "--var", "MODE=slow")...)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, out, "Variable: MODE = slow (flag)\nVariable: PASSWORD = (sensitive) (default)\nVariable: REGION = eu (env)\nVariable: TAG = dev (default)\n")
	assert.Contains(t, errs, "TAG is set in the environment, but archc reads variable \"TAG\" only from ARCHC_VAR_TAG")
	assert.NotContains(t, out+errs, "hunter2")
	assert.NotContains(t, errs, "from-bare-env")

	code, out, errs = runArchc(planArgs(specPath, cacheDir, "-f", extra, "--format", "json")...)
	require.Equal(t, 0, code, errs)
	var jp struct {
		Variables []map[string]any `json:"variables"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &jp))
	assert.Contains(t, jp.Variables, map[string]any{"name": "PASSWORD", "value": "(sensitive)", "source": "default", "sensitive": true})
	assert.NotContains(t, out, "hunter2")
}

// TestValidateJSONSpec: a JSON-syntax spec gives the same validate --json as its native twin.
func TestValidateJSONSpec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "daemon.json"), []byte(`{"registry-mirrors": ["https://mirror.example"]}`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.hcl"), []byte(`
variable "TAG" { default = "dev" }
locals { daemon = jsondecode(file("daemon.json")) }
registry "docker.io" { mirrors = local.daemon["registry-mirrors"] }
component "app" {
  context = "."
  tags    = ["registry.example/app:${var.TAG}"]
}
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.hcl.json"), []byte(`{
  "variable": {"TAG": {"default": "dev"}},
  "locals": {"daemon": "${jsondecode(file(\"daemon.json\"))}"},
  "registry": {"docker.io": {"mirrors": "${local.daemon[\"registry-mirrors\"]}"}},
  "component": {"app": {"context": ".", "tags": ["registry.example/app:${var.TAG}"]}}
}`), 0o644))
	code, native, errs := runArchc("validate", "--json", filepath.Join(dir, "a.hcl"))
	require.Equal(t, 0, code, errs)
	code, fromJSON, errs := runArchc("validate", "--json", filepath.Join(dir, "a.hcl.json"))
	require.Equal(t, 0, code, errs)
	assert.Contains(t, native, "https://mirror.example")
	assert.Equal(t, native, strings.Replace(fromJSON, `"a.hcl.json"`, `"a.hcl"`, 1))
}
