package testenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Registry is a running Debian docker-registry (distribution v2) on 127.0.0.1, plain HTTP,
// storing into a test temp dir.
type Registry struct {
	Host string // "127.0.0.1:PORT", as used in image references
	URL  string // "http://127.0.0.1:PORT"
	Dir  string // storage root

	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

// registryConfig is distribution's config.yml. Relative URLs keep Location headers valid when
// the registry sits behind a FaultProxy or TokenAuth front.
const registryConfig = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
  secret: archc-testenv
  relativeurls: true
`

// StartRegistry starts docker-registry on a free loopback port, waits until /v2/ answers and
// stops it when the test ends. Requires PartRegistry.
func StartRegistry(t testing.TB) *Registry {
	t.Helper()
	bin := Require(t, PartRegistry)
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		r, err := startRegistry(bin, dir)
		if err == nil {
			t.Cleanup(r.stop)
			return r
		}
		lastErr = err
	}
	t.Fatalf("start docker-registry: %v", lastErr)
	return nil
}

// startRegistry tries once on a fresh port; a port taken in between fails and is retried.
func startRegistry(bin, dir string) (*Registry, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	host := fmt.Sprintf("127.0.0.1:%d", port)
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	conf := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(conf, fmt.Appendf(nil, registryConfig, data, host), 0o644); err != nil {
		return nil, err
	}
	r := &Registry{Host: host, URL: "http://" + host, Dir: data, done: make(chan struct{}),
		log: filepath.Join(dir, "registry.log")}
	logf, err := os.Create(r.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	r.cmd = exec.Command(bin, "serve", conf)
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	r.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := r.cmd.Start(); err != nil {
		return nil, fmt.Errorf("run %s serve %s: %w", bin, conf, err)
	}
	go func() { _ = r.cmd.Wait(); close(r.done) }()
	if err := waitHTTP(r.URL+"/v2/", r.done, 15*time.Second); err != nil {
		r.stop()
		return nil, fmt.Errorf("docker-registry on %s: %w; log: %s", host, err, tail(r.log))
	}
	return r, nil
}

func (r *Registry) stop() { stopProcess(r.cmd, r.done, 5*time.Second) }

// Ref returns the reference "HOST/repo:tag" in this registry.
func (r *Registry) Ref(repo, tag string) string { return r.Host + "/" + repo + ":" + tag }

// waitHTTP polls url until it answers with any HTTP status below 500 or the process exits.
func waitHTTP(url string, exited <-chan struct{}, timeout time.Duration) error {
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{Proxy: nil}}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		select {
		case <-exited:
			return errors.New("process exited before answering")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer from %s within %s: %w", url, timeout, err)
		}
	}
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// listen opens a listener on a free loopback port.
func listen(t testing.TB) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1: %v", err)
	}
	return l
}

// tail returns the last lines of a log file, for error messages.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(string(bytes.TrimSpace(b)), "\n")
	if len(lines) > 10 {
		lines = lines[len(lines)-10:]
	}
	return strings.Join(lines, "\n")
}

// ctxTimeout is the deadline for one helper operation against a loopback service.
func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
