package spec

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const nativeSpec = `
variable "TAG" {
  default = "dev"
  validation {
    condition     = length(var.TAG) > 0
    error_message = "TAG is empty."
  }
}
variable "TOKEN" {
  default   = "t0ken"
  sensitive = true
}
locals {
  repo = "registry.example/app"
}
platforms = ["linux/amd64", "linux/arm64"]
registry "docker.io" {
  mirrors = ["https://mirror.example"]
}
attest {
  provenance = "min"
}
component "base" {
  context = "."
}
component "app" {
  context  = "."
  target   = "runtime"
  args     = { VERSION = var.TAG, DAEMON = jsondecode(file("daemon.json")).mirror }
  tags     = ["${local.repo}:${var.TAG}"]
  contexts = { base = component.base }
  labels   = { "org.example.team" = "core" }
  attest {
    sbom = false
  }
}
`

const jsonSpec = `{
  "variable": {
    "TAG": {"default": "dev", "validation": {"condition": "${length(var.TAG) > 0}", "error_message": "TAG is empty."}},
    "TOKEN": {"default": "t0ken", "sensitive": true}
  },
  "locals": {"repo": "registry.example/app"},
  "platforms": ["linux/amd64", "linux/arm64"],
  "registry": {"docker.io": {"mirrors": ["https://mirror.example"]}},
  "attest": {"provenance": "min"},
  "component": {
    "base": {"context": "."},
    "app": {
      "context": ".",
      "target": "runtime",
      "args": {"VERSION": "${var.TAG}", "DAEMON": "${jsondecode(file(\"daemon.json\")).mirror}"},
      "tags": ["${local.repo}:${var.TAG}"],
      "contexts": {"base": "${component.base}"},
      "labels": {"org.example.team": "core"},
      "attest": {"sbom": false}
    }
  }
}
`

// TestJSONSyntaxSameSpec: a spec in HCL's JSON syntax evaluates to the same normalized spec
// as its native twin.
func TestJSONSyntaxSameSpec(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM scratch\n", "daemon.json": `{"mirror": "m"}`,
		"archbuild.hcl": nativeSpec, "archbuild.hcl.json": jsonSpec})
	normalized := func(name string) string {
		s, diags := Load(LoadOptions{Files: []string{filepath.Join(dir, name)}, Vars: map[string]string{"TAG": "1.0"}})
		require.False(t, diags.HasErrors(), "%s: %v", name, diags)
		n := s.Normalized()
		n.Files = nil
		b, err := json.MarshalIndent(n, "", "  ")
		require.NoError(t, err)
		return string(b)
	}
	native := normalized("archbuild.hcl")
	assert.Contains(t, native, `"DAEMON": "m"`)
	assert.Contains(t, native, `registry.example/app:1.0`)
	assert.Equal(t, native, normalized("archbuild.hcl.json"))
}

func TestJSONSyntaxErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, src, want string }{
		{"syntax", `{"component": {`, "archbuild.hcl.json:1:1: error: Unclosed object"},
		{"unknown attribute", `{"componnt": {}}`, "archbuild.hcl.json:1:2: error: Unsupported argument"},
		{"unknown component attribute", `{"component": {"a": {"context": ".", "contxt": "."}}}`, "archbuild.hcl.json:1:38: error: Unsupported argument"},
		{"undefined variable", `{"component": {"a": {"context": ".", "tags": ["x:${var.NOPE}"]}}}`, "archbuild.hcl.json:1:52: error: Undefined variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, map[string]string{"Dockerfile": "FROM scratch\n", "archbuild.hcl.json": tt.src})
			_, diags := Load(LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl.json")}})
			require.True(t, diags.HasErrors())
			assert.Equal(t, tt.want, diagString(diags[0]), "%v", diags)
		})
	}
}

func TestFindDefault(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	assert.Equal(t, filepath.Join(dir, DefaultFile), FindDefault(dir), "neither: name the native one")
	writeTree(t, dir, map[string]string{DefaultJSONFile: "{}"})
	assert.Equal(t, filepath.Join(dir, DefaultJSONFile), FindDefault(dir))
	writeTree(t, dir, map[string]string{DefaultFile: ""})
	assert.Equal(t, filepath.Join(dir, DefaultFile), FindDefault(dir), "both: the native one")
}

// TestEnvWithoutPrefix: TAG=1.0 (bake's habit) warns, naming both spellings, only when
// nothing else sets the variable, and never shows the value.
func TestEnvWithoutPrefix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM scratch\n",
		"archbuild.hcl": "variable \"TAG\" {\n  default = \"dev\"\n}\ncomponent \"app\" {\n  context = \".\"\n}\n"})
	tests := []struct {
		name    string
		environ []string
		vars    map[string]string
		warn    bool
	}{
		{name: "unprefixed only", environ: []string{"TAG=s3cr3t", "PATH=/bin"}, warn: true},
		{name: "prefixed too", environ: []string{"TAG=1.0", "ARCHC_VAR_TAG=1.0"}},
		{name: "flag", environ: []string{"TAG=1.0"}, vars: map[string]string{"TAG": "2"}},
		{name: "other case", environ: []string{"tag=1.0"}},
		{name: "none", environ: []string{"PATH=/bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, diags := Load(LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}, Environ: tt.environ, Vars: tt.vars})
			require.NotNil(t, s, "%v", diags)
			if !tt.warn {
				assert.Empty(t, diags)
				return
			}
			require.Len(t, diags, 1)
			assert.Equal(t, "archbuild.hcl:1:1: warning: "+SummaryEnvWithoutPrefix, diagString(diags[0]))
			assert.Contains(t, diags[0].Detail, "TAG is set in the environment")
			assert.Contains(t, diags[0].Detail, "ARCHC_VAR_TAG")
			assert.NotContains(t, diags[0].Detail, "s3cr3t")
			assert.Equal(t, "dev", s.Variables[0].Value)
		})
	}
}
