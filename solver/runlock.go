package solver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// lockPoll is how often a waiting run retries the builder's lock: flock cannot be
// interrupted by a context, so waits poll with LOCK_NB.
const lockPoll = 200 * time.Millisecond

// runSeq makes each runLock's marker name unique within the process.
var runSeq atomic.Int64

// runLock is one archc run's hold on a local builder's state directory. A run holds it
// shared for as long as it uses the daemon (the whole apply, solves included), so runs
// with the same config share a daemon; starting, restarting or stopping the daemon takes
// it exclusive, which waits until no other run holds it. While a run holds it shared, a
// marker file runs/PID-N names it to runs that wait.
type runLock struct {
	dir    StateDir
	name   string
	f      *os.File
	marker string // "" when not holding it shared
}

// openRunLock opens (creating) the builder's lock file; it holds nothing yet.
func openRunLock(dir StateDir, name string) (*runLock, error) {
	f, err := os.OpenFile(dir.Lock(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("builder %s: open lock: %w", name, err)
	}
	return &runLock{dir: dir, name: name, f: f}, nil
}

// shared waits, bounded by ctx, until no run holds the lock exclusive (another run is
// starting or stopping the daemon: seconds), then holds it shared and marks this run.
func (l *runLock) shared(ctx context.Context, out io.Writer) error {
	said := false
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("builder %s: lock %s: %w", l.name, l.dir.Lock(), err)
		}
		if !said {
			fmt.Fprintf(out, "builder %s: another archc run is starting or stopping it; waiting\n", l.name)
			said = true
		}
		if err := sleepCtx(ctx, lockPoll); err != nil {
			return fmt.Errorf("builder %s: gave up waiting for another archc run to start or stop it: %w", l.name, err)
		}
	}
	if err := os.MkdirAll(l.dir.Runs(), 0o700); err != nil {
		l.unlock()
		return fmt.Errorf("builder %s: mark this run: %w", l.name, err)
	}
	marker := filepath.Join(l.dir.Runs(), fmt.Sprintf("%d-%d", os.Getpid(), runSeq.Add(1)))
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		l.unlock()
		return fmt.Errorf("builder %s: mark this run: %w", l.name, err)
	}
	l.marker = marker
	return nil
}

// exclusive drops this run's shared hold and waits, bounded by ctx, until no other run
// uses the builder; why says what for ("restart it with this run's settings"). The first
// time it has to wait it says so once, naming the other runs. Waiting rather than failing:
// the other runs finish by themselves, and Ctrl-C (ctx) ends the wait.
func (l *runLock) exclusive(ctx context.Context, why string, out io.Writer) error {
	l.unlock()
	said := false
	for {
		err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("builder %s: lock %s: %w", l.name, l.dir.Lock(), err)
		}
		if !said {
			fmt.Fprintf(out, "builder %s: waiting to %s: other archc runs are building on it (%s); "+
				"they keep their settings until they finish (Ctrl-C stops waiting)\n", l.name, why, l.others())
			said = true
		}
		if err := sleepCtx(ctx, lockPoll); err != nil {
			return fmt.Errorf("builder %s: gave up waiting to %s while other archc runs build on it (%s): %w", l.name, why, l.others(), err)
		}
	}
}

// others names the other runs holding the builder, from their markers; markers of dead
// processes (a run that was killed) are removed.
func (l *runLock) others() string {
	entries, _ := os.ReadDir(l.dir.Runs())
	var pids []int
	for _, e := range entries {
		p := filepath.Join(l.dir.Runs(), e.Name())
		if p == l.marker {
			continue
		}
		pidText, _, _ := strings.Cut(e.Name(), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 {
			continue
		}
		if !alive(pid) {
			_ = os.Remove(p)
			continue
		}
		if !slices.Contains(pids, pid) {
			pids = append(pids, pid)
		}
	}
	if len(pids) == 0 {
		return "an archc run that did not say which"
	}
	slices.Sort(pids)
	parts := make([]string, len(pids))
	for i, pid := range pids {
		parts[i] = "archc pid " + strconv.Itoa(pid)
	}
	return strings.Join(parts, ", ")
}

// unlock releases whatever this run holds and removes its marker.
func (l *runLock) unlock() {
	if l.marker != "" {
		_ = os.Remove(l.marker)
		l.marker = ""
	}
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
}

// close releases the lock and closes its file.
func (l *runLock) close() {
	l.unlock()
	_ = l.f.Close()
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
