package solver

import (
	"bytes"
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

// maxLockWait bounds a wait for the builder exclusive (to restart or stop it) while other
// runs keep building on it, and how long new runs let such a waiter go first.
const maxLockWait = 10 * time.Minute

// waitingPrefix names the marker of a run waiting for the lock exclusive: runs/waiting-PID-N.
const waitingPrefix = "waiting-"

// runSeq makes each runLock's marker name unique within the process.
var runSeq atomic.Int64

// runLock is one archc run's hold on a local builder's state directory. A run holds it
// shared for as long as it uses the daemon (the whole apply, solves included), so runs
// with the same config share a daemon; starting, restarting or stopping the daemon takes
// it exclusive, which waits until no other run holds it. While a run holds it shared, a
// marker file runs/PID-N names it to runs that wait. A marker holds its process's start
// time, so a marker whose pid now belongs to another process is not taken for a live run;
// the markers of runs that are gone (killed) are removed by the next run.
//
// flock gives a waiter for exclusive no priority over new shared holders, so while runs
// keep overlapping, a restart or `builder down` would wait forever. A run waiting for it
// exclusive therefore leaves a marker runs/waiting-PID-N, and runs that want it shared wait
// while such a marker of a live process exists (at most maxLockWait, the exclusive wait's
// own bound). Runs take several builders' locks in name order (Connect), so two runs never
// hold one builder each while waiting on the other's.
type runLock struct {
	dir     StateDir
	name    string
	f       *os.File
	marker  string        // "" when not holding it shared
	waiting string        // this run's waiting marker while it waits for exclusive
	excl    bool          // held exclusive
	maxWait time.Duration // maxLockWait; tests shorten it
}

// openRunLock opens (creating) the builder's lock file; it holds nothing yet.
func openRunLock(dir StateDir, name string) (*runLock, error) {
	f, err := os.OpenFile(dir.Lock(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("builder %s: open lock: %w", name, err)
	}
	return &runLock{dir: dir, name: name, f: f, maxWait: maxLockWait}, nil
}

// poll takes the lock (how is LOCK_SH or LOCK_EX) once it is free and yield (nil: never)
// says not to hold back, retrying every lockPoll until ctx ends. The first time it has to
// wait it calls say; when ctx ends it returns gaveUp's error.
func (l *runLock) poll(ctx context.Context, how int, yield func() bool, say func(), gaveUp func(error) error) error {
	said := false
	for {
		if yield == nil || !yield() {
			err := syscall.Flock(int(l.f.Fd()), how|syscall.LOCK_NB)
			if err == nil {
				return nil
			}
			if !errors.Is(err, syscall.EWOULDBLOCK) {
				return fmt.Errorf("builder %s: lock %s: %w", l.name, l.dir.Lock(), err)
			}
		}
		if !said {
			say()
			said = true
		}
		if err := sleepCtx(ctx, lockPoll); err != nil {
			return gaveUp(err)
		}
	}
}

// shared waits, bounded by ctx, until no run holds the lock exclusive (another run is
// starting or stopping the daemon: seconds) or waits to (up to maxWait), then holds it
// shared and marks this run. A run that holds it exclusive turns that into shared at once.
func (l *runLock) shared(ctx context.Context, out io.Writer) error {
	if out == nil {
		out = io.Discard
	}
	var yield func() bool
	if !l.excl {
		deadline := time.Now().Add(l.maxWait)
		yield = func() bool { return time.Now().Before(deadline) && l.restartPending() }
	}
	err := l.poll(ctx, syscall.LOCK_SH, yield, func() {
		fmt.Fprintf(out, "builder %s: another archc run is starting, restarting or stopping it; waiting\n", l.name)
	}, func(err error) error {
		return fmt.Errorf("builder %s: gave up waiting for another archc run to start or stop it: %w", l.name, err)
	})
	if err != nil {
		return err
	}
	l.excl = false
	if err := os.MkdirAll(l.dir.Runs(), 0o700); err != nil {
		l.unlock()
		return fmt.Errorf("builder %s: mark this run: %w", l.name, err)
	}
	l.markers() // removes those of runs that are gone
	marker := filepath.Join(l.dir.Runs(), fmt.Sprintf("%d-%d", os.Getpid(), runSeq.Add(1)))
	if err := writeMarker(marker); err != nil {
		l.unlock()
		return fmt.Errorf("builder %s: mark this run: %w", l.name, err)
	}
	l.marker = marker
	return nil
}

// exclusive drops this run's shared hold and waits until no other run uses the builder;
// why says what for ("restart it with this run's settings"). The first time it has to
// wait it says so once, naming the other runs. Waiting rather than failing: the other runs
// finish by themselves, and new runs wait for this one (its waiting marker). The wait ends
// with ctx (Ctrl-C) or after maxWait, with an error naming the runs still building.
func (l *runLock) exclusive(ctx context.Context, why string, out io.Writer) error {
	if out == nil {
		out = io.Discard
	}
	l.unlock()
	if err := os.MkdirAll(l.dir.Runs(), 0o700); err != nil {
		return fmt.Errorf("builder %s: mark this run as waiting: %w", l.name, err)
	}
	l.waiting = filepath.Join(l.dir.Runs(), fmt.Sprintf("%s%d-%d", waitingPrefix, os.Getpid(), runSeq.Add(1)))
	if err := writeMarker(l.waiting); err != nil {
		return fmt.Errorf("builder %s: mark this run as waiting: %w", l.name, err)
	}
	defer l.stopWaiting()
	errTooLong := fmt.Errorf("still building after %s", l.maxWait)
	wctx, cancel := context.WithTimeoutCause(ctx, l.maxWait, errTooLong)
	defer cancel()
	err := l.poll(wctx, syscall.LOCK_EX, nil, func() {
		fmt.Fprintf(out, "builder %s: waiting to %s: other archc runs are building on it (%s); "+
			"they keep their settings until they finish, new runs wait for this one (Ctrl-C stops waiting)\n", l.name, why, l.others())
	}, func(err error) error {
		if cause := context.Cause(wctx); errors.Is(cause, errTooLong) && ctx.Err() == nil {
			return fmt.Errorf("builder %s: gave up waiting to %s: other archc runs (%s) are %w; "+
				"run again when they have finished, or give this spec its own local builder (a `builder \"NAME\" {}` block without address)",
				l.name, why, l.others(), cause)
		}
		return fmt.Errorf("builder %s: gave up waiting to %s while other archc runs build on it (%s): %w", l.name, why, l.others(), err)
	})
	if err != nil {
		return err
	}
	l.excl = true
	return nil
}

// stopWaiting removes this run's waiting marker.
func (l *runLock) stopWaiting() {
	if l.waiting != "" {
		_ = os.Remove(l.waiting)
		l.waiting = ""
	}
}

// restartPending reports whether another live run waits for the lock exclusive.
func (l *runLock) restartPending() bool {
	for _, m := range l.markers() {
		if m.waiting && m.path != l.waiting {
			return true
		}
	}
	return false
}

// others names the other runs holding the builder, from their markers.
func (l *runLock) others() string {
	var pids []int
	for _, m := range l.markers() {
		if !m.waiting && m.path != l.marker && !slices.Contains(pids, m.pid) {
			pids = append(pids, m.pid)
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

// runMarker is one file in runs/: a run using the builder (PID-N) or waiting to have it
// exclusive (waiting-PID-N).
type runMarker struct {
	path    string
	waiting bool
	pid     int
}

// markers returns the markers of live runs (this one's included) and removes those of
// runs that are gone: their process exited (a killed run leaves its marker behind), or
// their pid now names a process that started at another time.
func (l *runLock) markers() []runMarker {
	entries, _ := os.ReadDir(l.dir.Runs())
	var live []runMarker
	for _, e := range entries {
		waiting, pid, ok := parseMarker(e.Name())
		if !ok {
			continue
		}
		m := runMarker{path: filepath.Join(l.dir.Runs(), e.Name()), waiting: waiting, pid: pid}
		if !markerLive(m.path, pid) {
			_ = os.Remove(m.path)
			continue
		}
		live = append(live, m)
	}
	return live
}

// parseMarker reads a marker's name: PID-N (a run using the builder) or waiting-PID-N.
func parseMarker(name string) (waiting bool, pid int, ok bool) {
	rest, waiting := strings.CutPrefix(name, waitingPrefix)
	pidText, _, _ := strings.Cut(rest, "-")
	pid, err := strconv.Atoi(pidText)
	if err != nil || pid <= 0 {
		return false, 0, false
	}
	return waiting, pid, true
}

// writeMarker writes a marker of this process: its start time.
func writeMarker(path string) error {
	return os.WriteFile(path, []byte(procStart(os.Getpid())+"\n"), 0o600)
}

// markerLive reports whether the run that wrote the marker at path, process pid, is
// running: pid is a live process that started when the marker says. A marker without a
// start time (one being written, or an older archc's) is judged by its pid alone.
func markerLive(path string, pid int) bool {
	start := procStart(pid)
	if start == "" {
		return false
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	recorded := strings.TrimSpace(string(b))
	return recorded == "" || recorded == start
}

// procStart returns when process pid started (field 22 of /proc/PID/stat, clock ticks
// after boot): with the pid, it names one process, as a pid alone does not once the pid is
// reused. It is "" when the process is gone or a zombie.
func procStart(pid int) string {
	state, start, ok := procStat(pid)
	if !ok || exited(state) {
		return ""
	}
	return start
}

// procStat reads /proc/PID/stat: the process's state (field 3) and start time (field 22).
// ok is false when the process is gone or the file cannot be read as one.
func procStat(pid int) (state, start string, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", "", false
	}
	// The command name (field 2) may hold spaces and parentheses: fields 3 on follow the
	// last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", "", false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return "", "", false
	}
	return f[0], f[19], true
}

// exited reports whether a process state is a zombie's or a dead one's.
func exited(state string) bool { return state == "Z" || state == "X" }

// unlock releases whatever this run holds and removes its marker.
func (l *runLock) unlock() {
	if l.marker != "" {
		_ = os.Remove(l.marker)
		l.marker = ""
	}
	l.excl = false
	_ = syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
}

// close releases the lock and closes its file.
func (l *runLock) close() {
	l.stopWaiting()
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
