package main

import (
	"os"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDefaultSpecSkippedNote: -f without SPEC says that ./archbuild.hcl was not read.
// Not parallel: it changes the working directory.
func TestDefaultSpecSkippedNote(t *testing.T) {
	t.Chdir(t.TempDir())
	a := specArgs{Files: []string{"ci.hcl"}}
	assert.Empty(t, a.defaultSkipped(), "no archbuild.hcl here: nothing was skipped")
	require.NoError(t, os.WriteFile(spec.DefaultFile, []byte(""), 0o644))
	assert.Equal(t, "archc: note: archbuild.hcl was not read: -f merges files onto SPEC, and no SPEC was given. To merge onto it, name it first: archc COMMAND archbuild.hcl -f ci.hcl", a.defaultSkipped())
	for _, other := range []specArgs{
		{Spec: "archbuild.hcl", Files: []string{"ci.hcl"}},
		{Files: []string{"archbuild.hcl", "ci.hcl"}},
		{},
	} {
		assert.Empty(t, other.defaultSkipped(), "%+v", other)
	}
}

// TestSplitSpecArgJSONSpec: a directory (or the working directory) holding only
// archbuild.hcl.json is a spec directory, as the loader's default says; a name is a
// component of it. Not parallel: it changes the working directory.
func TestSplitSpecArgJSONSpec(t *testing.T) {
	t.Chdir(t.TempDir())
	require.NoError(t, os.Mkdir("proj", 0o755))
	require.NoError(t, os.WriteFile("proj/"+spec.DefaultJSONFile, []byte("{}"), 0o644))

	var sel selectArgs
	sa := specArgs{Spec: "proj"}
	require.NoError(t, sel.splitSpecArg(&sa))
	assert.Equal(t, "proj/"+spec.DefaultJSONFile, sa.Spec)

	require.NoError(t, os.WriteFile(spec.DefaultJSONFile, []byte("{}"), 0o644))
	sa = specArgs{Spec: "web"}
	require.NoError(t, sel.splitSpecArg(&sa))
	assert.Empty(t, sa.Spec)
	assert.Equal(t, []string{"web"}, sel.Names)
}
