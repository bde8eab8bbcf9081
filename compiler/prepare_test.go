package compiler

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loopbackBase starts a registry holding library/busybox:1.36 and returns its reference.
func loopbackBase(t *testing.T) string {
	t.Helper()
	reg := testenv.StartRegistry(t)
	content, err := testenv.TinyContent("library/busybox", "linux/amd64", "linux/arm64")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = content.Push(ctx, reg.URL, "library/busybox", "1.36")
	require.NoError(t, err)
	return reg.Host + "/library/busybox:1.36"
}

// TestPrepareWritesLockOnlyOnSuccess: pins resolved for a plan that then fails are not
// written; the same plan that succeeds writes them.
func TestPrepareWritesLockOnlyOnSuccess(t *testing.T) {
	t.Parallel()
	base := loopbackBase(t)
	s := oneComponent(t, "FROM "+base+"\nRUN true\n", spec.Component{})
	lockPath := filepath.Join(s.Dir, registry.LockFileName)
	res := resolverFor(t, s, t.TempDir())
	opts := PrepareOptions{Resolver: res, Compile: []Option{WithBuildPlatform("linux/amd64")}}

	failing := opts
	failing.Selection = Selection{Components: []string{"nope"}}
	_, changes, err := Prepare(context.Background(), s, failing)
	require.Error(t, err)
	assert.Empty(t, changes)
	_, statErr := os.Stat(lockPath)
	assert.True(t, os.IsNotExist(statErr), "a failed plan writes no lock")

	plan, changes, err := Prepare(context.Background(), s, opts)
	require.NoError(t, err)
	require.NotNil(t, plan)
	require.Len(t, changes, 1)
	lock, err := registry.ReadLock(lockPath)
	require.NoError(t, err)
	assert.NotNil(t, lock.Find(changes[0].Ref))
}
