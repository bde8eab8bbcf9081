package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuilderStatusJSON: `builder status --format json` reports a remote builder that does
// not answer as unreachable, with its error and hint as fields, and exits 1.
func TestBuilderStatusJSON(t *testing.T) {
	t.Parallel()
	dead := testenv.ClosedAddr(t)
	dir := t.TempDir()
	specPath := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	require.NoError(t, os.WriteFile(specPath, []byte(fmt.Sprintf(`builder "arm-1" {
  address   = "tcp://%s"
  platforms = ["linux/arm64"]
}

component "app" {
  context = "."
}
`, dead)), 0o644))

	code, out, errs := runArchc("builder", "status", specPath, "--format", "json")
	assert.Equal(t, exitFailure, code, errs)
	var got struct {
		FormatVersion int `json:"format_version"`
		Builders      []struct {
			Name, Kind, Address, State, Error, Hint string
		} `json:"builders"`
		ExitCode int `json:"exit_code"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &got), out)
	assert.Equal(t, 1, got.FormatVersion)
	assert.Equal(t, 1, got.ExitCode)
	require.Len(t, got.Builders, 1)
	b := got.Builders[0]
	assert.Equal(t, "arm-1", b.Name)
	assert.Equal(t, "remote", b.Kind)
	assert.Equal(t, "tcp://"+dead, b.Address)
	assert.Equal(t, "unreachable", b.State)
	assert.Contains(t, b.Error, "connection refused")
	assert.NotEmpty(t, b.Hint)

	code, _, errs = runArchc("builder", "status", specPath, "--format", "dot")
	assert.Equal(t, exitUsage, code, errs)
}
