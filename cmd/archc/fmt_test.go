package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const unformatted = "component \"app\" {\ncontext = \".\"\n  dockerfile=\"Dockerfile\"\n}\n"
const formatted = "component \"app\" {\n  context    = \".\"\n  dockerfile = \"Dockerfile\"\n}\n"

// TestFmt follows terraform fmt: list and rewrite changed files; --check writes nothing and
// exits 3; --diff shows the change; an invalid file is left alone (exit 1); the lock is
// not touched.
func TestFmt(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) string {
		dir := t.TempDir()
		for name, content := range map[string]string{"archbuild.hcl": unformatted, "ok.hcl": formatted,
			"archbuild.lock.hcl": "x  =  1\n", "notes.txt": "a  =  1\n"} {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
		}
		return dir
	}
	read := func(t *testing.T, p string) string {
		b, err := os.ReadFile(p)
		require.NoError(t, err)
		return string(b)
	}

	dir := setup(t)
	code, out, errs := runArchc("fmt", "--check", "--diff", dir)
	assert.Equal(t, exitUnformatted, code, errs)
	spec := filepath.Join(dir, "archbuild.hcl")
	assert.Equal(t, spec+"\n--- "+spec+"\n+++ "+spec+" (formatted)\n"+
		"-context = \".\"\n-  dockerfile=\"Dockerfile\"\n+  context    = \".\"\n+  dockerfile = \"Dockerfile\"\n", out)
	assert.Equal(t, unformatted, read(t, spec), "--check writes nothing")

	code, out, errs = runArchc("fmt", dir)
	assert.Equal(t, exitOK, code, errs)
	assert.Equal(t, spec+"\n", out)
	assert.Equal(t, formatted, read(t, spec))
	assert.Equal(t, "x  =  1\n", read(t, filepath.Join(dir, "archbuild.lock.hcl")), "the lock is archc's")
	code, out, _ = runArchc("fmt", "--check", spec)
	assert.Equal(t, exitOK, code)
	assert.Empty(t, out)

	bad := filepath.Join(dir, "bad.hcl")
	require.NoError(t, os.WriteFile(bad, []byte("component \"x\" {\n  context = \n"), 0o644))
	code, _, errs = runArchc("fmt", bad)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errs, "bad.hcl")
	assert.Equal(t, "component \"x\" {\n  context = \n", read(t, bad), "an invalid file is left alone")

	code, _, errs = runArchc("fmt", filepath.Join(dir, "nope.hcl"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "nope.hcl")
}

// TestFmtDefaultsToTheWorkingDirectory: bare `archc fmt` formats ./*.hcl and lists them
// relative. Not parallel: it changes the working directory (t.Chdir restores it).
func TestFmtDefaultsToTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(unformatted), 0o644))
	t.Chdir(dir)
	code, out, errs := runArchc("fmt")
	assert.Equal(t, exitOK, code, errs)
	assert.Equal(t, "archbuild.hcl\n", out)
	b, err := os.ReadFile("archbuild.hcl")
	require.NoError(t, err)
	assert.Equal(t, formatted, string(b))
}

// TestFmtRewritesWhole: fmt replaces a spec whole (no temporary file left), keeps its mode,
// and writes through a symlink, which stays a link.
func TestFmtRewritesWhole(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	real := filepath.Join(dir, "real", "spec.hcl")
	require.NoError(t, os.Mkdir(filepath.Dir(real), 0o755))
	require.NoError(t, os.WriteFile(real, []byte(unformatted), 0o640))
	link := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.Symlink(filepath.Join("real", "spec.hcl"), link))

	code, out, errs := runArchc("fmt", link)
	assert.Equal(t, exitOK, code, errs)
	assert.Equal(t, link+"\n", out)

	fi, err := os.Lstat(link)
	require.NoError(t, err)
	assert.Equal(t, os.ModeSymlink, fi.Mode().Type(), "the link stays a link")
	b, err := os.ReadFile(real)
	require.NoError(t, err)
	assert.Equal(t, formatted, string(b), "the link's target is formatted")
	fi, err = os.Stat(real)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm(), "the mode is kept")
	for _, d := range []string{dir, filepath.Dir(real)} {
		m, err := filepath.Glob(filepath.Join(d, ".tmp-*"))
		require.NoError(t, err)
		assert.Empty(t, m, "no temporary file left in %s", d)
	}
}

// TestWriteSpecNew: a spec init writes where none was is 0644, as os.WriteFile made it.
func TestWriteSpecNew(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "archbuild.hcl")
	require.NoError(t, writeSpec(path, []byte(formatted)))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, formatted, string(b))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
}
