package solver

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// TestLocalBuilderLifecycle starts a real buildkitd: up, reuse, restart on a config
// change, status, down.
func TestLocalBuilderLifecycle(t *testing.T) {
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	bin := testenv.Require(t, testenv.PartBuildkitd)
	state, err := os.MkdirTemp("", "archc-solver-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(state) })
	t.Setenv("XDG_STATE_HOME", state)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	t.Cleanup(func() { _, _ = StopLocal("t") })

	var out bytes.Buffer
	opts := LocalOptions{Name: "t", Config: []byte("debug = false\n"), Binary: bin, Out: &out}
	b, err := EnsureLocal(ctx, opts)
	require.NoError(t, err, out.String())
	assert.Contains(t, out.String(), "started buildkitd")
	assert.NotEmpty(t, b.WorkerPlatforms())
	pid := runningPID(StateDir(filepath.Join(state, "archc", "builders", "t")))
	require.NotZero(t, pid)
	b.Close()

	out.Reset()
	b, err = EnsureLocal(ctx, opts)
	require.NoError(t, err)
	b.Close()
	assert.Empty(t, out.String(), "second run reuses the daemon silently")

	st := LocalStatus(ctx, "t", ConfigDigest(opts.Config, opts.Env))
	require.NoError(t, st.Err)
	assert.True(t, st.Running)
	assert.Equal(t, pid, st.PID)
	require.NotNil(t, st.ConfigMatches)
	assert.True(t, *st.ConfigMatches)
	assert.NotEmpty(t, st.Version)

	opts.Env = DaemonProxyEnv(&spec.Proxy{HTTPProxy: "http://127.0.0.1:9"})
	st = LocalStatus(ctx, "t", ConfigDigest(opts.Config, opts.Env))
	require.NotNil(t, st.ConfigMatches)
	assert.False(t, *st.ConfigMatches, "a proxy change is drift")

	out.Reset()
	b, err = EnsureLocal(ctx, opts)
	require.NoError(t, err)
	b.Close()
	assert.Contains(t, out.String(), "settings changed")
	env, err := os.ReadFile(filepath.Join("/proc", itoa(runningPID(StateDir(filepath.Join(state, "archc", "builders", "t")))), "environ"))
	require.NoError(t, err)
	assert.Contains(t, string(env), "HTTP_PROXY=http://127.0.0.1:9")

	was, err := StopLocal("t")
	require.NoError(t, err)
	assert.True(t, was)
	st = LocalStatus(ctx, "t", "")
	assert.False(t, st.Running)
}

func itoa(i int) string { return strconv.Itoa(i) }
