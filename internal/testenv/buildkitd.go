package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Buildkitd is a bin/buildkitd a test started on a root of its own, stopped (SIGTERM, then
// SIGKILL after 15 s) and removed when the test ends.
type Buildkitd struct {
	Addr string // "unix://ROOT/buildkitd.sock" or the tcp:// address asked for
	Root string
	Log  string
}

// StartBuildkitd starts bin (buildkitd's OCI worker) with config as its buildkitd.toml and
// extra flags (TLS), on addr ("" for a unix socket in its root), and returns once the
// address accepts connections: buildkitd listens only after its workers are up. The
// daemon gets no proxy from the test's environment.
func StartBuildkitd(t testing.TB, bin, addr, config string, extra ...string) *Buildkitd {
	t.Helper()
	// The root is not under t.TempDir: the daemon's mounts must be gone before removal.
	root, err := os.MkdirTemp("", "archc-test-buildkitd-")
	if err != nil {
		t.Fatalf("buildkitd root: %v", err)
	}
	if addr == "" {
		addr = "unix://" + filepath.Join(root, "buildkitd.sock")
	}
	b := &Buildkitd{Addr: addr, Root: root, Log: filepath.Join(root, "buildkitd.log")}
	cfg := filepath.Join(root, "buildkitd.toml")
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatalf("write buildkitd.toml: %v", err)
	}
	logf, err := os.Create(b.Log)
	if err != nil {
		t.Fatalf("buildkitd log: %v", err)
	}
	args := append([]string{"--addr", addr, "--root", filepath.Join(root, "state"), "--config", cfg,
		"--oci-worker=true", "--containerd-worker=false"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start buildkitd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		stopProcess(cmd, exited, 15*time.Second)
		logf.Close()
		_ = os.RemoveAll(root)
	})
	network, where, _ := strings.Cut(addr, "://")
	if err := waitListen(network, where, exited, 60*time.Second); err != nil {
		t.Fatalf("buildkitd on %s: %v; log:\n%s", addr, err, tail(b.Log))
	}
	return b
}

// ClosedAddr returns a loopback address ("127.0.0.1:PORT") nothing listens on: the port
// was free a moment ago and its listener is closed.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l := listen(t)
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatalf("close listener: %v", err)
	}
	return addr
}
