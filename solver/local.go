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
	// Env is the daemon's proxy environment (KEY=VALUE); it replaces any proxy variables
	// archc itself runs with.
	Env []string
	// Binary is the buildkitd executable; "" looks next to archc, then on PATH.
	Binary string
	// Out receives one line when the daemon is started or restarted.
	Out io.Writer
	// StartTimeout bounds the wait for a fresh daemon to answer; 30s when zero.
	StartTimeout time.Duration
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
		return "", errors.New("find buildkitd: not next to archc and not on PATH (hint: `make build` writes bin/buildkitd next to bin/archc)")
	}
	return p, nil
}

// EnsureLocal returns a connection to the local builder, starting its daemon when it is
// not running and restarting it when its config or proxy environment differs from opts.
func EnsureLocal(ctx context.Context, opts LocalOptions) (*Builder, error) {
	opts.defaults()
	dir, err := StateDirFor(opts.Name)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(string(dir), 0o700); err != nil {
		return nil, fmt.Errorf("builder %s: create state directory: %w", opts.Name, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, fmt.Errorf("builder %s: %w", opts.Name, err)
	}
	defer unlock()

	want := ConfigDigest(opts.Config, opts.Env)
	if pid := runningPID(dir); pid > 0 {
		have, _ := os.ReadFile(dir.Digest())
		if strings.TrimSpace(string(have)) == want {
			b, err := connectLocal(ctx, opts.Name, dir, 5*time.Second)
			if err == nil {
				return b, nil
			}
			fmt.Fprintf(opts.Out, "builder %s: running daemon (pid %d) does not answer (%v); restarting it\n", opts.Name, pid, err)
		} else {
			fmt.Fprintf(opts.Out, "builder %s: registry/proxy settings changed since it started; restarting buildkitd with the new config\n", opts.Name)
		}
		if err := stopPID(pid, 15*time.Second); err != nil {
			return nil, fmt.Errorf("builder %s: stop old daemon: %w", opts.Name, err)
		}
	}
	return startLocal(ctx, opts, dir, want)
}

func startLocal(ctx context.Context, opts LocalOptions, dir StateDir, digest string) (*Builder, error) {
	bin := opts.Binary
	if bin == "" {
		var err error
		if bin, err = FindBuildkitd(); err != nil {
			return nil, err
		}
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
	cmd.Env = append(withoutProxyEnv(os.Environ()), opts.Env...)
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
// It reports whether a daemon was running.
func StopLocal(name string) (bool, error) {
	dir, err := StateDirFor(name)
	if err != nil {
		return false, err
	}
	if _, err := os.Stat(string(dir)); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return false, fmt.Errorf("builder %s: %w", name, err)
	}
	defer unlock()
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
	if st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat")); err == nil {
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
			return 0
		}
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
	st, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	f := strings.Fields(string(st))
	return !(len(f) > 2 && f[2] == "Z")
}

// lockDir takes an exclusive flock on the state directory's lock file.
func lockDir(dir StateDir) (func(), error) {
	f, err := os.OpenFile(dir.Lock(), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir.Lock(), err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

func withoutProxyEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY":
			continue
		}
		out = append(out, kv)
	}
	return out
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
