package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/spec/golden")

const specTestdata = "../../testdata/spec"

func runArchc(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestValidateJSONGolden checks `archc validate --json` against golden files.
func TestValidateJSONGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		golden string
		args   []string
	}{
		{"full.json", []string{specTestdata + "/good/full.hcl"}},
		{"full-vars.json", []string{"--var", "TAG=2.0.0", "--var", `PLATFORMS=["linux/arm64"]`, "--var", "DEBUG=true", specTestdata + "/good/full.hcl"}},
		{"minimal.json", []string{specTestdata + "/good/minimal.hcl"}},
		{"merge.json", []string{"-f", specTestdata + "/merge/base.hcl", "-f", specTestdata + "/merge/over/override.hcl"}},
		{"example.json", []string{"../../examples/archbuild.hcl"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runArchc(append([]string{"validate", "--json"}, tt.args...)...)
			require.Equal(t, exitOK, code, stderr)
			path := filepath.Join(specTestdata, "golden", tt.golden)
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, []byte(stdout), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run with -update to create it")
			assert.Equal(t, string(want), stdout)
			assert.NotContains(t, stdout, "s3cret", "proxy passwords are redacted")
			assert.NotContains(t, stdout, "hunter2", "proxy passwords are redacted")
		})
	}
}

func TestValidateExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string
		stderrHas  string
		stderrNone string
	}{
		{"ok", []string{"validate", "../../examples/archbuild.hcl"}, exitOK,
			"spec OK: 3 components, 2 platforms, 3 registries, 2 variables\n", "", "error"},
		{"invalid spec", []string{"validate", specTestdata + "/bad/many_errors.hcl"}, exitFailure, "",
			"many_errors.hcl:8:13: error: Build context not found\n  8 |   context = \"../ctx/missing\"\n    |             ^^^^^^^^^^^^^^^^\n", ""},
		{"every error reported", []string{"validate", specTestdata + "/bad/many_errors.hcl"}, exitFailure, "",
			"many_errors.hcl:10:3: error: Unsupported argument", ""},
		{"no color into a buffer", []string{"validate", specTestdata + "/bad/cycle.hcl"}, exitFailure, "",
			"a -> b -> c -> a", "\x1b["},
		{"malformed --var", []string{"validate", "--var", "TAG", "../../examples/archbuild.hcl"}, exitUsage, "", `--var "TAG": want NAME=VALUE`, ""},
		{"empty --var name", []string{"validate", "--var", "=x", "../../examples/archbuild.hcl"}, exitUsage, "", "want NAME=VALUE", ""},
		{"unknown flag", []string{"validate", "--bogus"}, exitUsage, "", "unknown flag", ""},
		{"missing file", []string{"validate", specTestdata + "/nope.hcl"}, exitFailure, "", "error: Cannot read spec file", ""},
		{"mirror TLS note on stderr", []string{"validate", specTestdata + "/good/mirror_tls.hcl"}, exitOK,
			"spec OK: 1 component, 1 platform, 1 registry, 0 variables\n",
			`archc: note: registry "r.invalid:5000" sets insecure = true, ca = ..., which its mirror https://mirror.invalid/cache does not inherit: if the mirror needs it, add registry "mirror.invalid" { insecure = true; ca = ... }` + "\n", ""},
		{"no note without one", []string{"validate", specTestdata + "/good/minimal.hcl"}, exitOK,
			"spec OK: 1 component, 1 platform, 0 registries, 0 variables\n", "", "note"},
		{"undeclared --var", []string{"validate", "--var", "NOPE=1", "../../examples/archbuild.hcl"}, exitFailure, "", "error: Undefined variable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runArchc(tt.args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Equal(t, tt.stdout, stdout)
			if tt.stderrHas != "" {
				assert.Contains(t, stderr, tt.stderrHas)
			}
			if tt.stderrNone != "" {
				assert.NotContains(t, stderr, tt.stderrNone)
			}
		})
	}
}

func TestSpecArgsFiles(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args specArgs
		want []string
	}{
		{specArgs{}, []string{"archbuild.hcl"}},
		{specArgs{Spec: "a.hcl"}, []string{"a.hcl"}},
		{specArgs{Files: []string{"b.hcl", "c.hcl"}}, []string{"b.hcl", "c.hcl"}},
		{specArgs{Spec: "a.hcl", Files: []string{"b.hcl"}}, []string{"a.hcl", "b.hcl"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.args.files())
	}
	vars, err := (&specArgs{Vars: []string{"A=1", "B=x=y", "C="}}).vars()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"A": "1", "B": "x=y", "C": ""}, vars)
}
