package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f.json")
	require.NoError(t, WriteFile(path, []byte("one"), 0o600))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())

	// A write that fails half way leaves the old content and no temporary file.
	boom := errors.New("boom")
	err = Write(path, 0o644, func(w io.Writer) error {
		_, _ = w.Write([]byte("tw"))
		return boom
	})
	require.ErrorIs(t, err, boom)
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "one", string(dt))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	require.NoError(t, WriteFile(path, []byte("two"), 0o644))
	dt, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "two", string(dt))
	fi, err = os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), fi.Mode().Perm())
}

// TestCreate: a streamed write replaces the file whole on Commit, leaves it as it was on
// Abort, and leaves no temporary file either way.
func TestCreate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(path, []byte("old content"), 0o644))

	p, err := Create(path, 0o600)
	require.NoError(t, err)
	_, err = p.Write([]byte("half"))
	require.NoError(t, err)
	got, err := os.ReadFile(p.Name())
	require.NoError(t, err)
	assert.Equal(t, "half", string(got), "what is written can be read before Commit")
	p.Abort()
	p.Abort() // again: nothing
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old content", string(dt), "an aborted write leaves the old file")
	assertOnly(t, dir, "f")

	p, err = Create(path, 0o600)
	require.NoError(t, err)
	for _, s := range []string{"new", " ", "one"} {
		_, err = p.Write([]byte(s))
		require.NoError(t, err)
	}
	dt, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old content", string(dt), "nothing shows before Commit")
	require.NoError(t, p.Commit())
	dt, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new one", string(dt), "a committed write replaces the file whole")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	assertOnly(t, dir, "f")

	p.Abort() // after Commit: nothing
	assert.FileExists(t, path)
	assert.Error(t, p.Commit(), "a second Commit")
}

// TestMakeDir: the directory is made (with the mode given) only when asked.
func TestMakeDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "f")
	require.Error(t, WriteFile(path, []byte("x"), 0o600), "without MakeDir the directory must exist")

	require.NoError(t, WriteFile(path, []byte("x"), 0o600, MakeDir(0o700)))
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "x", string(dt))
	for _, d := range []string{filepath.Join(dir, "a"), filepath.Join(dir, "a", "b")} {
		fi, err := os.Stat(d)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o700), fi.Mode().Perm(), d)
	}

	p, err := Create(filepath.Join(dir, "c", "f"), 0o644, MakeDir(0o755))
	require.NoError(t, err)
	p.Abort()
	assert.DirExists(t, filepath.Join(dir, "c"))
}

// assertOnly checks that dir holds exactly the files names (no temporary file left).
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	assert.Equal(t, names, got)
}
