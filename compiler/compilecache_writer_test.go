package compiler

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// temps are the temporary files in the compile cache's plans directory.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "plans", ".tmp-*"))
	require.NoError(t, err)
	return m
}

// TestSnapshotStreamed: entries compiled are written as they come, committed by finish
// only; a compile that failed (no finish) leaves nothing the next compile reads, and its
// temporary file is dropped by that compile or, when the process ended, by prune.
func TestSnapshotStreamed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cc := &compileCache{dir: dir, version: "test", maxBytes: compileCacheMaxBytes, maxAge: compileCacheMaxAge}
	s := &spec.Spec{Dir: t.TempDir(), Files: []string{"archbuild.hcl"}}
	e := &cacheEntry{Definition: []byte{1, 2, 3}, Warnings: []string{"w"}}
	want, err := encodeEntry(e)
	require.NoError(t, err)
	key := digest.FromString("a")

	cc.contextIndex(s)
	cc.put(key, e)
	assert.Len(t, temps(t, dir), 1, "the entry is written while compiling")
	assert.NoFileExists(t, cc.name+".builds", "nothing is committed before finish")
	assert.Nil(t, cc.used[key], "a written entry is not held")

	cc.contextIndex(s) // the compile failed: the next one starts
	assert.Empty(t, temps(t, dir), "a failed compile's snapshot is dropped")

	cc.put(key, e)
	cc.finish()
	assert.Empty(t, temps(t, dir))
	assert.Equal(t, map[digest.Digest][]byte{key: want}, readSnapshot(cc.name+".builds"))

	// A run that reads its entry and compiles another keeps both.
	// (what get records of a hit; this entry's definition does not decode)
	cc.contextIndex(s)
	cc.used[key] = readSnapshot(cc.name + ".builds")[key]
	other := digest.FromString("b")
	cc.put(other, e)
	cc.finish()
	assert.Equal(t, map[digest.Digest][]byte{key: want, other: want}, readSnapshot(cc.name+".builds"),
		"the read entry and the compiled one")

	stale, fresh := filepath.Join(dir, "plans", ".tmp-stale"), filepath.Join(dir, "plans", ".tmp-fresh")
	for _, p := range []string{stale, fresh} {
		require.NoError(t, os.WriteFile(p, []byte("x"), 0o600))
	}
	old := time.Now().Add(-2 * staleTemp)
	require.NoError(t, os.Chtimes(stale, old, old))
	cc.prune(time.Now())
	assert.Equal(t, []string{fresh}, temps(t, dir), "prune removes only a temporary file no writer can own")
}
