package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDoctorCommand: an invalid spec fails the spec check (exit 1); a spec that needs no
// network (FROM scratch, no registries, no proxy) with its local builder stopped is all
// ok (exit 0), in both formats.
func TestDoctorCommand(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // no local builder running there
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM scratch\nCOPY . /\n"), 0o644))
	good := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(good, []byte("component \"app\" {\n  context = \"./app\"\n}\n"), 0o644))
	bad := filepath.Join(dir, "bad.hcl")
	require.NoError(t, os.WriteFile(bad, []byte("nope = 1\n"), 0o644))

	code, stdout, stderr := runArchc("doctor", "--cache-dir", t.TempDir(), good)
	assert.Equal(t, exitOK, code, stdout+stderr)
	assert.Contains(t, stdout, "✓ spec")
	assert.Contains(t, stdout, "✓ builder local")
	assert.Contains(t, stdout, "0 warnings, 0 failures: nothing stands in the way of a build")

	code, stdout, stderr = runArchc("doctor", "--format", "json", bad)
	assert.Equal(t, exitFailure, code, stderr)
	var rep struct {
		Checks []struct {
			Name, Verdict, Cause, Fix string
		} `json:"checks"`
		ExitCode int `json:"exit_code"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stdout)
	require.Len(t, rep.Checks, 1, "nothing else is checked when the spec is invalid")
	assert.Equal(t, "fail", rep.Checks[0].Verdict)
	assert.Contains(t, rep.Checks[0].Cause, "bad.hcl:1:1: ")
	assert.Contains(t, rep.Checks[0].Fix, "archc validate")
	assert.Equal(t, 1, rep.ExitCode)

	code, _, stderr = runArchc("doctor", "--format", "yaml", good)
	assert.Equal(t, exitUsage, code, stderr)
}
