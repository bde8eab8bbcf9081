package solver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/archc-dev/archc/registry"
)

// DefaultLocalName is the name of the builder archc manages when the spec has no builder
// with an address.
const DefaultLocalName = "local"

// LocalOptions describe the local builder archc starts and reuses.
type LocalOptions struct {
	// Name selects the state directory; DefaultLocalName when empty.
	Name string
	// Config is the buildkitd.toml rendered from the spec for this run.
	Config []byte
	// Env is the daemon's proxy environment (KEY=VALUE, DaemonProxyEnv). The daemon gets
	// it and a few of archc's own variables (daemonEnv), never archc's whole environment.
	Env []string
	// Out receives one line when the daemon is started or restarted.
	Out io.Writer
	// StartTimeout bounds the wait for a fresh daemon to answer; 30s when zero.
	StartTimeout time.Duration
	// Spec is the spec file of this run (its first file, absolute), recorded in the state
	// directory when the daemon starts: a later run of another spec that must restart the
	// shared builder can then say whose settings it replaces. "" records nothing.
	Spec string
}

func (o *LocalOptions) defaults() {
	if o.Name == "" {
		o.Name = DefaultLocalName
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.StartTimeout == 0 {
		o.StartTimeout = 30 * time.Second
	}
}

// ConfigDigest identifies a daemon configuration: the rendered toml and its environment.
func ConfigDigest(config []byte, env []string) string {
	h := sha256.New()
	h.Write(config)
	e := slices.Clone(env)
	slices.Sort(e)
	for _, kv := range e {
		h.Write([]byte{0})
		h.Write([]byte(kv))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// FindBuildkitd returns the buildkitd next to the running archc executable, else the one
// on PATH.
func FindBuildkitd() (string, error) {
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			p := filepath.Join(filepath.Dir(exe), "buildkitd")
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
	}
	p, err := exec.LookPath("buildkitd")
	if err != nil {
		return "", registry.WithHint(errors.New("find buildkitd: not next to archc and not on PATH"), "`make build` writes bin/buildkitd next to bin/archc")
	}
	return p, nil
}

// maxRestarts bounds how often one run restarts the daemon because another run with other
// settings restarted it in between.
const maxRestarts = 3

// EnsureLocal returns a connection to the local builder, starting its daemon when it is
// not running and restarting it when its config or proxy environment differs from opts.
//
// The builder is shared by every archc run of the user (one state directory per builder
// name). The returned Builder holds the builder's lock shared until Close: callers keep it
// open for as long as they solve on it. A restart needs the lock exclusive, so a run whose
// settings differ waits, saying so once and naming the other runs, until they have
// finished (bounded by ctx): it never stops a daemon other runs are building on.
func EnsureLocal(ctx context.Context, opts LocalOptions) (*Builder, error) {
	opts.defaults()
	dir, err := StateDirFor(opts.Name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(string(dir), 0o700); err != nil {
		return nil, fmt.Errorf("builder %s: create state directory: %w", opts.Name, err)
	}
	l, err := openRunLock(dir, opts.Name)
	if err != nil {
		return nil, err
	}
	want := ConfigDigest(opts.Config, opts.Env)
	for restarts := 0; ; restarts++ {
		if err := l.shared(ctx, opts.Out); err != nil {
			l.close()
			return nil, err
		}
		b, why := reuseLocal(ctx, opts.Name, dir, want)
		if b != nil {
			b.release = l.close
			return b, nil
		}
		if restarts == maxRestarts {
			l.close()
			return nil, fmt.Errorf("builder %s: restarted %d times, each time replaced by archc runs with other registry/proxy settings; "+
				"run them one after another, or give one spec its own local builder (a `builder \"NAME\" {}` block without address)", opts.Name, restarts)
		}
		if err := l.exclusive(ctx, why, opts.Out); err != nil {
			l.close()
			return nil, err
		}
		if err := restartLocal(ctx, opts, dir, want); err != nil {
			l.close()
			return nil, err
		}
		// Back to shared: whoever restarts it next waits for this run.
	}
}

// reuseLocal connects to the running daemon when it runs with the wanted config; else it
// says what must be done ("start it", "restart it ...").
func reuseLocal(ctx context.Context, name string, dir StateDir, want string) (*Builder, string) {
	pid := runningPID(dir)
	if pid == 0 {
		return nil, "start it"
	}
	have, _ := os.ReadFile(dir.Digest())
	if strings.TrimSpace(string(have)) != want {
		return nil, "restart it with this run's registry/proxy settings"
	}
	b, err := connectLocal(ctx, name, dir, 5*time.Second)
	if err != nil {
		return nil, fmt.Sprintf("restart it (pid %d does not answer)", pid)
	}
	return b, ""
}

// restartLocal (with the lock held exclusive) starts the daemon with the wanted config,
// stopping one with another config or that does not answer; when another run already did
// that, it does nothing.
func restartLocal(ctx context.Context, opts LocalOptions, dir StateDir, want string) error {
	if pid := runningPID(dir); pid > 0 {
		have, _ := os.ReadFile(dir.Digest())
		if strings.TrimSpace(string(have)) == want {
			b, err := connectLocal(ctx, opts.Name, dir, 5*time.Second)
			if err == nil {
				return b.Client.Close()
			}
			fmt.Fprintf(opts.Out, "builder %s: running daemon (pid %d) does not answer (%v); restarting it\n", opts.Name, pid, err)
		} else {
			startedBy, _ := os.ReadFile(startedByFile(dir))
			fmt.Fprintln(opts.Out, restartReason(opts.Name, strings.TrimSpace(string(startedBy)), opts.Spec))
		}
		if err := stopPID(pid, 15*time.Second); err != nil {
			return fmt.Errorf("builder %s: stop old daemon: %w", opts.Name, err)
		}
	}
	b, err := startLocal(ctx, opts, dir, want)
	if err != nil {
		return err
	}
	return b.Client.Close()
}

func startLocal(ctx context.Context, opts LocalOptions, dir StateDir, digest string) (*Builder, error) {
	bin, err := FindBuildkitd()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(dir.Config(), opts.Config, 0o600); err != nil {
		return nil, fmt.Errorf("builder %s: write config: %w", opts.Name, err)
	}
	_ = os.Remove(dir.Socket())
	logf, err := os.OpenFile(dir.Log(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("builder %s: open log: %w", opts.Name, err)
	}
	defer logf.Close()
	cmd := exec.Command(bin,
		"--addr", dir.Address(),
		"--root", dir.Root(),
		"--config", dir.Config(),
		"--oci-worker=true", "--containerd-worker=false",
	)
	cmd.Env = daemonEnv(os.Environ(), opts.Env)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("builder %s: start %s: %w", opts.Name, bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := os.WriteFile(dir.PID(), []byte(strconv.Itoa(cmd.Process.Pid)+"\n"), 0o600); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("builder %s: write pid: %w", opts.Name, err)
	}
	if err := os.WriteFile(dir.Digest(), []byte(digest+"\n"), 0o600); err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("builder %s: write config digest: %w", opts.Name, err)
	}
	// Only a message reads it: a failed write costs a vaguer restart line, not the run.
	if opts.Spec != "" {
		_ = os.WriteFile(startedByFile(dir), []byte(opts.Spec+"\n"), 0o600)
	} else {
		_ = os.Remove(startedByFile(dir))
	}
	fmt.Fprintf(opts.Out, "builder %s: started buildkitd (pid %d, log %s)\n", opts.Name, cmd.Process.Pid, dir.Log())

	deadline := time.Now().Add(opts.StartTimeout)
	for {
		b, err := connectLocal(ctx, opts.Name, dir, time.Second)
		if err == nil {
			return b, nil
		}
		select {
		case werr := <-exited:
			return nil, fmt.Errorf("builder %s: buildkitd exited during startup (%v); last log lines:\n%s", opts.Name, werr, tailFile(dir.Log(), 10))
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("builder %s: buildkitd did not answer within %s: %v; last log lines:\n%s", opts.Name, opts.StartTimeout, err, tailFile(dir.Log(), 10))
		}
	}
}

// StopLocal stops the local builder's daemon. It keeps the cache (root) for the next start.
// It waits, bounded by ctx and saying so on out, until no archc run is building on it. It
// reports whether a daemon was running.
func StopLocal(ctx context.Context, name string, out io.Writer) (bool, error) {
	if out == nil {
		out = io.Discard
	}
	dir, err := StateDirFor(name)
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(string(dir)); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	l, err := openRunLock(dir, name)
	if err != nil {
		return false, err
	}
	defer l.close()
	if err := l.exclusive(ctx, "stop it", out); err != nil {
		return false, err
	}
	pid := runningPID(dir)
	if pid > 0 {
		if err := stopPID(pid, 15*time.Second); err != nil {
			return true, fmt.Errorf("builder %s: %w", name, err)
		}
	}
	_ = os.Remove(dir.PID())
	_ = os.Remove(dir.Socket())
	return pid > 0, nil
}

// runningPID returns the daemon's pid when its pid file names a live buildkitd, else 0.
func runningPID(dir StateDir) int {
	b, err := os.ReadFile(dir.PID())
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0
	}
	if syscall.Kill(pid, 0) != nil {
		return 0
	}
	// Guard against pid reuse: the process must be a buildkitd.
	comm, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err == nil && !bytes.Contains(comm, []byte("buildkitd")) {
		return 0
	}
	if state, _, ok := procStat(pid); ok && exited(state) {
		return 0
	}
	return pid
}

// stopPID sends SIGTERM and waits up to grace, then SIGKILLs.
func stopPID(pid int, grace time.Duration) error {
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		return fmt.Errorf("stop buildkitd pid %d: %w", pid, err)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		if !alive(pid) {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
	time.Sleep(200 * time.Millisecond)
	return nil
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	state, _, ok := procStat(pid)
	return ok && !exited(state)
}

// tailFile returns the last n lines of a file, indented, for error messages.
func tailFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (no log)"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return "  " + strings.Join(lines, "\n  ")
}

// startedByFile holds the spec file whose settings the running daemon was started with.
func startedByFile(dir StateDir) string { return filepath.Join(string(dir), "started-by") }

// restartReason is the line said when the builder's daemon runs with other settings than
// this run's: when another spec started it, the projects share the builder by name and
// will keep restarting each other until each has its own.
func restartReason(name, startedBy, spec string) string {
	if startedBy == "" || spec == "" || startedBy == spec {
		return fmt.Sprintf("builder %s: registry/proxy settings changed since it started; restarting buildkitd with the new config", name)
	}
	return fmt.Sprintf("builder %s: it was started for another spec (%s) whose registry/proxy settings differ from this spec's (%s); restarting buildkitd with this spec's config. "+
		"Builders are shared by name across projects: give each project its own, e.g. builder %q {} in its spec, so they stop restarting each other",
		name, startedBy, spec, projectBuilderName(spec))
}

// projectBuilderName suggests a builder name for the project of spec: its directory's name,
// lowercased, or "myproj".
func projectBuilderName(spec string) string {
	n := strings.ToLower(filepath.Base(filepath.Dir(spec)))
	n = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, n)
	if strings.Trim(n, "-_") == "" {
		return "myproj"
	}
	return n
}
