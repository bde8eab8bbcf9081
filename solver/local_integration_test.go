package solver

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
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
	state, ctx := localBuilderTest(t, "t")

	var out bytes.Buffer
	opts := LocalOptions{Name: "t", Config: []byte("debug = false\n"), Out: &out}
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

	was, err := StopLocal(ctx, "t", nil)
	require.NoError(t, err)
	assert.True(t, was)
	st = LocalStatus(ctx, "t", "")
	assert.False(t, st.Running)
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestLocalBuilderIsNotRestartedUnderAnotherRun: two runs (goroutines, each with its own
// lock) need different settings; the second waits while the first builds on the daemon,
// which keeps running, then restarts it once the first has finished.
func TestLocalBuilderIsNotRestartedUnderAnotherRun(t *testing.T) {
	state, ctx := localBuilderTest(t, "shared")
	dir := StateDir(filepath.Join(state, "archc", "builders", "shared"))

	first, err := EnsureLocal(ctx, LocalOptions{Name: "shared", Config: []byte("debug = false\n")})
	require.NoError(t, err)
	pid := runningPID(dir)
	require.NotZero(t, pid)

	var out syncBuffer
	type res struct {
		b   *Builder
		err error
	}
	second := make(chan res, 1)
	go func() {
		b, err := EnsureLocal(ctx, LocalOptions{Name: "shared", Config: []byte("debug = true\n"), Out: &out})
		second <- res{b, err}
	}()
	waitFor(t, &out, "waiting to restart it with this run's registry/proxy settings: other archc runs are building on it (archc pid "+itoa(os.Getpid())+")")
	_, err = first.Client.Info(ctx)
	require.NoError(t, err, "the first run's daemon keeps serving it")
	assert.Equal(t, pid, runningPID(dir))
	require.NoError(t, first.Close())

	r := <-second
	require.NoError(t, r.err, out.String())
	defer r.b.Close()
	assert.Contains(t, out.String(), "settings changed")
	assert.NotEqual(t, pid, runningPID(dir), "restarted once the first run finished")
	assert.Equal(t, ConfigDigest([]byte("debug = true\n"), nil), digestOf(t, dir))
}

func digestOf(t *testing.T, dir StateDir) string {
	t.Helper()
	b, err := os.ReadFile(dir.Digest())
	require.NoError(t, err)
	return strings.TrimSpace(string(b))
}

// localBuilderTest prepares a test that runs a real local builder called name: the parts it
// needs, a private state directory (short: the socket lives there), a deadline, and the
// builder stopped at the end. It returns buildkitd's path, the state directory and the
// context. Not parallel: it sets XDG_STATE_HOME.
func localBuilderTest(t *testing.T, name string) (string, context.Context) {
	t.Helper()
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	bin := testenv.Require(t, testenv.PartBuildkitd)
	state, err := os.MkdirTemp("", "archc-solver-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(state) })
	t.Setenv("XDG_STATE_HOME", state)
	// EnsureLocal finds buildkitd as archc does: next to the executable, else on PATH.
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	t.Cleanup(func() { _, _ = StopLocal(context.Background(), name, nil) })
	return state, ctx
}
