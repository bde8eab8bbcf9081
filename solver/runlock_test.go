package solver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
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
	assert.Contains(t, lateOut.String(), "another archc run is starting, restarting or stopping it; waiting")
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

// TestRunLockNewRunsWaitForARestart: while a run waits to restart the builder, new runs
// that want to share it wait for the restart instead of keeping it busy forever; the
// restarting run itself turns its exclusive hold into a shared one without waiting.
func TestRunLockNewRunsWaitForARestart(t *testing.T) {
	t.Parallel()
	building, restarting := testRunLock(t)
	ctx := context.Background()
	require.NoError(t, building.shared(ctx, nil))

	var out syncBuffer
	restarted := make(chan error, 1)
	go func() { restarted <- restarting.exclusive(ctx, "restart it", &out) }()
	waitFor(t, &out, "waiting to restart it")

	late, err := openRunLock(building.dir, "t")
	require.NoError(t, err)
	t.Cleanup(late.close)
	var lateOut syncBuffer
	joined := make(chan error, 1)
	go func() { joined <- late.shared(ctx, &lateOut) }()
	waitFor(t, &lateOut, "another archc run is starting, restarting or stopping it; waiting")

	building.close()
	require.NoError(t, <-restarted)
	select {
	case err := <-joined:
		t.Fatalf("a new run shared the builder while it restarts: %v", err)
	default:
	}
	var again syncBuffer
	require.NoError(t, restarting.shared(ctx, &again), "back to shared after the restart")
	assert.Empty(t, again.String())
	require.NoError(t, <-joined)
	entries, err := os.ReadDir(building.dir.Runs())
	require.NoError(t, err)
	assert.Len(t, entries, 2, "two runs share it; no waiting marker is left")
}

// TestRunLockExclusiveWaitIsBounded: a restart that other runs keep from happening gives
// up at its bound and names them, rather than waiting forever.
func TestRunLockExclusiveWaitIsBounded(t *testing.T) {
	t.Parallel()
	building, stopping := testRunLock(t)
	require.NoError(t, building.shared(context.Background(), nil))
	stopping.maxWait = time.Nanosecond
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // the test's own bound
	defer cancel()
	err := stopping.exclusive(ctx, "stop it", nil)
	require.Error(t, err)
	me := "archc pid " + strconv.Itoa(os.Getpid())
	assert.Contains(t, err.Error(), "builder t: gave up waiting to stop it: other archc runs ("+me+") are still building after 1ns; run again when they have finished")
	entries, err := os.ReadDir(building.dir.Runs())
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the waiting marker goes when the wait ends")
}

// TestRunLockDeadWaiterDoesNotHoldRunsBack: the waiting marker of a run that was killed
// while waiting to restart the builder is removed, and new runs go ahead.
func TestRunLockDeadWaiterDoesNotHoldRunsBack(t *testing.T) {
	t.Parallel()
	a, _ := testRunLock(t)
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	dead := filepath.Join(a.dir.Runs(), waitingPrefix+strconv.Itoa(cmd.Process.Pid)+"-1")
	require.NoError(t, os.MkdirAll(a.dir.Runs(), 0o700))
	require.NoError(t, os.WriteFile(dead, nil, 0o600))
	var out syncBuffer
	require.NoError(t, a.shared(context.Background(), &out))
	assert.Empty(t, out.String())
	assert.NoFileExists(t, dead)
}

// startProcess starts a process that lives until the test ends (or is killed) and returns
// it with its start time.
func startProcess(t *testing.T, path string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(path, "60")
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	start := procStart(cmd.Process.Pid)
	require.NotEmpty(t, start)
	return cmd, start
}

// TestRunLockMarkers: the next run removes the markers of runs that are gone (killed, or
// whose pid now names another process) and keeps those of live runs.
func TestRunLockMarkers(t *testing.T) {
	t.Parallel()
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	live, liveStart := startProcess(t, sleep)
	killed, killedStart := startProcess(t, sleep)
	require.NoError(t, killed.Process.Kill())
	_ = killed.Wait()
	me := os.Getpid()

	tests := []struct {
		name    string
		marker  string
		content string
		kept    bool
	}{
		{"live run", fmt.Sprintf("%d-1", live.Process.Pid), liveStart, true},
		{"live run waiting", fmt.Sprintf("%s%d-2", waitingPrefix, live.Process.Pid), liveStart, true},
		{"killed run", fmt.Sprintf("%d-3", killed.Process.Pid), killedStart, false},
		{"killed run waiting", fmt.Sprintf("%s%d-4", waitingPrefix, killed.Process.Pid), killedStart, false},
		{"pid reused by a live process", fmt.Sprintf("%d-5", me), "12", false},
		{"pid reused, waiting", fmt.Sprintf("%s%d-6", waitingPrefix, me), "12", false},
		{"older archc's marker of a live pid", fmt.Sprintf("%d-7", live.Process.Pid), "", true},
		{"not a marker", "notes.txt", "", true},
	}
	a, b := testRunLock(t)
	require.NoError(t, os.MkdirAll(a.dir.Runs(), 0o700))
	for _, tt := range tests {
		require.NoError(t, os.WriteFile(filepath.Join(a.dir.Runs(), tt.marker), []byte(tt.content+"\n"), 0o600))
	}
	a.maxWait = time.Nanosecond // the live waiting marker would hold this run back
	require.NoError(t, a.shared(context.Background(), nil))
	for _, tt := range tests {
		p := filepath.Join(a.dir.Runs(), tt.marker)
		if tt.kept {
			assert.FileExists(t, p, tt.name)
		} else {
			assert.NoFileExists(t, p, tt.name)
		}
	}
	own, err := os.ReadFile(a.marker)
	require.NoError(t, err)
	assert.Equal(t, procStart(me)+"\n", string(own), "a marker records its process's start time")
	pids := []int{me, live.Process.Pid} // a's own marker names this process
	slices.Sort(pids)
	assert.Equal(t, fmt.Sprintf("archc pid %d, archc pid %d", pids[0], pids[1]), b.others(), "the killed run is not named")
}

// TestProcStartOddName: the start time is read after the command name, which may hold
// spaces and parentheses.
func TestProcStartOddName(t *testing.T) {
	t.Parallel()
	sleep, err := exec.LookPath("sleep")
	require.NoError(t, err)
	odd := filepath.Join(t.TempDir(), "x) 1 2 (y")
	require.NoError(t, os.Symlink(sleep, odd))
	cmd, start := startProcess(t, odd)
	mine, err := strconv.ParseUint(procStart(os.Getpid()), 10, 64)
	require.NoError(t, err)
	theirs, err := strconv.ParseUint(start, 10, 64)
	require.NoError(t, err, "start of %d", cmd.Process.Pid)
	assert.GreaterOrEqual(t, theirs, mine, "the child started after the test")
	assert.Empty(t, procStart(1<<30), "no such process")
}
