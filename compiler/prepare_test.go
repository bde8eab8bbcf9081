package compiler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
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

// TestPrepareLocatesBaseErrors: bases no host serves are named with the component and the
// Dockerfile line that use them, all at once, each ref once; a ref not in the lock gets no
// advice about moving its pin.
func TestPrepareLocatesBaseErrors(t *testing.T) {
	t.Parallel()
	base := loopbackBase(t)
	host, _, _ := strings.Cut(base, "/")
	s := oneComponent(t, "# comment\nFROM "+host+"/library/busybox:9.99\nRUN true\n", spec.Component{})
	other := s.Components[0]
	other.Name = "web"
	other.Dockerfile = filepath.Join(s.Dir, "web.Dockerfile")
	require.NoError(t, os.WriteFile(other.Dockerfile, []byte("ARG V=1\nFROM "+host+"/library/nosuch:${V}\n"), 0o644))
	s.Components = append(s.Components, other)
	res := resolverFor(t, s, t.TempDir())
	_, _, err := Prepare(context.Background(), s, PrepareOptions{Resolver: res, Compile: []Option{WithBuildPlatform("linux/amd64")}})
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, `component "app": Dockerfile:2: `+host+`/library/busybox:9.99: `)
	assert.Contains(t, msg, `component "web": web.Dockerfile:2: `+host+`/library/nosuch:1: `)
	assert.Equal(t, 1, strings.Count(msg, "busybox:9.99: "), "each ref once, though two platforms use it")
	var be *BaseError
	require.ErrorAs(t, err, &be)
	assert.NotContains(t, be.Hint(), "lock")
	assert.Contains(t, be.Hint(), "check the image name and tag")
	_, statErr := os.Stat(filepath.Join(s.Dir, registry.LockFileName))
	assert.True(t, os.IsNotExist(statErr))
}
