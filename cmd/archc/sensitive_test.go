package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSensitiveValuesNeverShown: a sensitive variable's value is hidden wherever it went
// (args, labels, a string built from it) in validate --json and every plan format, and a
// bad value for a typed sensitive variable is not echoed.
func TestSensitiveValuesNeverShown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM scratch\nARG TOKEN\nCOPY . /\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(`
variable "TOKEN" { sensitive = true }
variable "PIN" {
  type      = number
  sensitive = true
  default   = 1234
}
component "app" {
  context = "./app"
  args    = { TOKEN = var.TOKEN, PIN = var.PIN }
  labels  = { "x.token" = "token=${var.TOKEN}" }
}
`), 0o644))
	const secret = "s3cr3t-T0KEN"
	spec := filepath.Join(dir, "archbuild.hcl")
	cache := filepath.Join(dir, "cache")
	for _, args := range [][]string{
		{"validate", "--json", "--var", "TOKEN=" + secret, spec},
		{"plan", "--var", "TOKEN=" + secret, "--cache-dir", cache, spec},
		{"plan", "--format", "json", "--var", "TOKEN=" + secret, "--cache-dir", cache, spec},
		{"plan", "--format", "dot", "--var", "TOKEN=" + secret, "--cache-dir", cache, spec},
	} {
		code, stdout, stderr := runArchc(args...)
		require.Equal(t, exitOK, code, "%v: %s", args, stderr)
		assert.NotContains(t, stdout+stderr, secret, args)
		assert.NotContains(t, stdout+stderr, "1234", args)
		if args[0] == "plan" && len(args) > 3 && args[1] != "--format" {
			assert.Contains(t, stdout, "arg         TOKEN=(sensitive)")
			assert.Contains(t, stdout, "label       x.token=token=(sensitive)")
		}
	}

	code, _, stderr := runArchc("validate", "--var", "TOKEN=x", "--var", "PIN="+secret, spec)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, stderr, "--var PIN=(sensitive) is not a number")
	assert.NotContains(t, stderr, secret)
}
