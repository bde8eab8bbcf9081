package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultSpecSkippedNote: -f without SPEC says that ./archbuild.hcl was not read.
// Not parallel: it changes the working directory.
func TestDefaultSpecSkippedNote(t *testing.T) {
	t.Chdir(t.TempDir())
	a := specArgs{Files: []string{"ci.hcl"}}
	assert.Empty(t, a.defaultSkipped(), "no archbuild.hcl here: nothing was skipped")
	require.NoError(t, os.WriteFile(defaultSpec, []byte(""), 0o644))
	assert.Equal(t, "archc: note: archbuild.hcl was not read: -f merges files onto SPEC, and no SPEC was given. To merge onto it, name it first: archc COMMAND archbuild.hcl -f ci.hcl", a.defaultSkipped())
	for _, other := range []specArgs{
		{Spec: "archbuild.hcl", Files: []string{"ci.hcl"}},
		{Files: []string{"archbuild.hcl", "ci.hcl"}},
		{},
	} {
		assert.Empty(t, other.defaultSkipped(), "%+v", other)
	}
}
