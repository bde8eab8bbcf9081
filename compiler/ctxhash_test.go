package compiler

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctxTree writes a small context: files, a subdirectory, a symlink, an ignored file.
func ctxTree(t *testing.T) string {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"a.txt": "alpha\n", "sub/b.txt": "beta\n", "sub/deep/c.bin": strings.Repeat("c", 70000), "skip.tmp": "x",
	} {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	require.NoError(t, os.Symlink("a.txt", filepath.Join(dir, "link")))
	return dir
}

// later is a clock far enough ahead that files written now are not racy.
func later() time.Time { return time.Now().Add(time.Minute) }

// reloaded is store saved and read back, as the next run sees it.
func reloaded(t *testing.T, store *ctxStore) *ctxStore {
	p := filepath.Join(t.TempDir(), "contexts")
	store.changed = true // a fresh file: written even when nothing changed
	require.NoError(t, store.save(p))
	return loadCtxStore(p)
}

func indexOf(t *testing.T, store *ctxStore, dir string, excludes []string) *ctxIndex {
	idx := store.get(indexName(dir, excludes))
	require.NotNil(t, idx)
	return idx
}

// TestContextIndexKeepsDigests: hashing with an index (cold, then warm) gives the digest
// of a full read, also after a change.
func TestContextIndexKeepsDigests(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the index is used on linux")
	}
	ctx := context.Background()
	dir, store := ctxTree(t), loadCtxStore("")
	ex := []string{"*.tmp"}
	full, err := contextDigest(ctx, dir, ex)
	require.NoError(t, err)
	hr := ctxHasher{store: store, now: later}
	for i := 0; i < 2; i++ {
		got, err := hr.digest(ctx, dir, ex)
		require.NoError(t, err)
		assert.Equal(t, full, got, "run %d", i)
		hr.store = reloaded(t, hr.store)
	}
	assert.Len(t, indexOf(t, hr.store, dir, ex).Files, 3, "regular files sent, the ignored one not")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "b.txt"), []byte("BETA\n"), 0o644))
	changed, err := contextDigest(ctx, dir, ex)
	require.NoError(t, err)
	require.NotEqual(t, full, changed)
	got, err := hr.digest(ctx, dir, ex)
	require.NoError(t, err)
	assert.Equal(t, changed, got)
}

// TestContextIndexSkipsReads: an entry the index vouches for is not read (a planted digest
// is used as is), while a racy one (not older than the hashing that recorded it) or one
// whose stat differs is read again.
func TestContextIndexSkipsReads(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the index is used on linux")
	}
	ctx := context.Background()
	planted := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name    string
		spoil   func(idx *ctxIndex, e *ctxIndexEntry)
		trusted bool
	}{
		{"unchanged and old", func(*ctxIndex, *ctxIndexEntry) {}, true},
		{"racy: recorded within the margin of its mtime", func(idx *ctxIndex, e *ctxIndexEntry) {
			idx.Started = e.Mtime + int64(time.Second)
		}, false},
		{"another size", func(_ *ctxIndex, e *ctxIndexEntry) { e.Size++ }, false},
		{"another mtime", func(_ *ctxIndex, e *ctxIndexEntry) { e.Mtime-- }, false},
		{"another ctime (rewritten, mtime put back)", func(_ *ctxIndex, e *ctxIndexEntry) { e.Ctime-- }, false},
		{"another inode (replaced)", func(_ *ctxIndex, e *ctxIndexEntry) { e.Ino++ }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := ctxTree(t)
			full, err := contextDigest(ctx, dir, nil)
			require.NoError(t, err)
			hr := ctxHasher{store: loadCtxStore(""), now: later}
			_, err = hr.digest(ctx, dir, nil)
			require.NoError(t, err)
			idx := indexOf(t, hr.store, dir, nil)
			e := idx.Files["a.txt"]
			e.Sum = planted
			tc.spoil(idx, &e)
			idx.Files["a.txt"] = e
			hr.store = reloaded(t, hr.store)

			got, err := hr.digest(ctx, dir, nil)
			require.NoError(t, err)
			if tc.trusted {
				assert.NotEqual(t, full, got, "the planted digest was used: the file was not read")
			} else {
				assert.Equal(t, full, got, "the file was read again")
			}
		})
	}
}

// TestContextIndexSameSecondRewrite: a file rewritten with the same size right after it
// was hashed, its mtime set back to the old one (a change within the same mtime second on
// a coarse filesystem), is read again: the index written at that hashing cannot vouch for it.
func TestContextIndexSameSecondRewrite(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := ctxTree(t)
	p := filepath.Join(dir, "a.txt")
	fi, err := os.Stat(p)
	require.NoError(t, err)
	hr := ctxHasher{store: loadCtxStore("")} // the real clock: the files are as new as the hashing
	_, err = hr.digest(ctx, dir, nil)
	require.NoError(t, err)
	hr.store = reloaded(t, hr.store)
	require.NoError(t, os.WriteFile(p, []byte("ALPHA\n"), 0o644))
	require.NoError(t, os.Chtimes(p, fi.ModTime(), fi.ModTime()))
	want, err := contextDigest(ctx, dir, nil)
	require.NoError(t, err)
	got, err := hr.digest(ctx, dir, nil)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

// TestContextIndexCorrupt: an unreadable index is ignored and replaced.
func TestContextIndexCorrupt(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := ctxTree(t)
	full, err := contextDigest(ctx, dir, nil)
	require.NoError(t, err)
	p := filepath.Join(t.TempDir(), "contexts")
	require.NoError(t, os.WriteFile(p, []byte("{not json"), 0o600))
	got, err := ctxHasher{store: loadCtxStore(p)}.digest(ctx, dir, nil)
	require.NoError(t, err)
	assert.Equal(t, full, got)
}
