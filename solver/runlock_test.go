package solver

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// syncBuffer is an io.Writer two goroutines can share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls until out contains want (the other goroutine said it waits).
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), want) }, time.Minute, 20*time.Millisecond, "never said %q: %s", want, out.String())
}

func testRunLock(t *testing.T) (*runLock, *runLock) {
	t.Helper()
	dir := StateDir(t.TempDir())
	a, err := openRunLock(dir, "t")
	require.NoError(t, err)
	t.Cleanup(a.close)
	b, err := openRunLock(dir, "t")
	require.NoError(t, err)
	t.Cleanup(b.close)
	return a, b
}

// TestRunLockRestartWaitsForRunsBuilding: a run that needs the builder exclusive (to
// restart it with other settings) while another run builds on it waits, names that run,
// gives up when its context ends, and goes ahead once the other run has finished.
func TestRunLockRestartWaitsForRunsBuilding(t *testing.T) {
	t.Parallel()
	building, restarting := testRunLock(t)
	ctx := context.Background()
	require.NoError(t, building.shared(ctx, nil))

	var out syncBuffer
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	err := restarting.exclusive(short, "restart it with this run's registry/proxy settings", &out)
	require.Error(t, err)
	me := "archc pid " + strconv.Itoa(os.Getpid())
	assert.Contains(t, err.Error(), "gave up waiting to restart it with this run's registry/proxy settings while other archc runs build on it ("+me+")")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, out.String(), "builder t: waiting to restart it with this run's registry/proxy settings: other archc runs are building on it ("+me+")")

	out = syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- restarting.exclusive(ctx, "restart it", &out) }()
	waitFor(t, &out, "waiting to restart it")
	select {
	case err := <-done:
		t.Fatalf("went ahead while another run builds: %v", err)
	default:
	}
	building.close()
	require.NoError(t, <-done)

	// While it restarts, a new run waits to share it.
	late, err := openRunLock(building.dir, "t")
	require.NoError(t, err)
	defer late.close()
	short2, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	var lateOut syncBuffer
	require.ErrorIs(t, late.shared(short2, &lateOut), context.DeadlineExceeded)
	assert.Contains(t, lateOut.String(), "another archc run is starting or stopping it; waiting")
	restarting.unlock()
	require.NoError(t, late.shared(ctx, nil))
}

// TestRunLockSharedRunsDoNotWait: runs with the same settings share the builder.
func TestRunLockSharedRunsDoNotWait(t *testing.T) {
	t.Parallel()
	a, b := testRunLock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out syncBuffer
	require.NoError(t, a.shared(ctx, &out))
	require.NoError(t, b.shared(ctx, &out))
	assert.Empty(t, out.String())
	entries, err := os.ReadDir(a.dir.Runs())
	require.NoError(t, err)
	assert.Len(t, entries, 2, "one marker per run")
	a.close()
	b.close()
	entries, err = os.ReadDir(a.dir.Runs())
	require.NoError(t, err)
	assert.Empty(t, entries, "markers go with their runs")
}

// TestRunLockForgetsDeadRuns: a killed run's marker does not name it as building.
func TestRunLockForgetsDeadRuns(t *testing.T) {
	t.Parallel()
	a, _ := testRunLock(t)
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	dead := filepath.Join(a.dir.Runs(), strconv.Itoa(cmd.Process.Pid)+"-1")
	require.NoError(t, os.MkdirAll(a.dir.Runs(), 0o700))
	require.NoError(t, os.WriteFile(dead, nil, 0o600))
	assert.Equal(t, "an archc run that did not say which", a.others())
	assert.NoFileExists(t, dead)
}
