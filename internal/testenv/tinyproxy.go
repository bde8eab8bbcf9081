package testenv

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Tinyproxy is a running Debian tinyproxy on 127.0.0.1 (forward proxy, CONNECT allowed,
// clients from 127.0.0.1 only).
type Tinyproxy struct {
	Host string // "127.0.0.1:PORT"
	URL  string // "http://127.0.0.1:PORT"
}

// TinyproxyConfig renders tinyproxy.conf for a loopback listener on port. Running as root,
// tinyproxy drops to nobody:nogroup.
func TinyproxyConfig(port int) string {
	conf := fmt.Sprintf("Port %d\nListen 127.0.0.1\nAllow 127.0.0.1\nTimeout 60\nMaxClients 100\nLogLevel Connect\n", port)
	if os.Geteuid() == 0 {
		conf = "User nobody\nGroup nogroup\n" + conf
	}
	return conf
}

// StartTinyproxy starts tinyproxy on a free loopback port and stops it when the test ends.
// Requires PartTinyproxy. Tests that need faults or counters use StartHTTPProxy instead.
func StartTinyproxy(t testing.TB) *Tinyproxy {
	t.Helper()
	bin := Require(t, PartTinyproxy)
	dir := t.TempDir()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		conf := filepath.Join(dir, "tinyproxy.conf")
		if err := os.WriteFile(conf, []byte(TinyproxyConfig(port)), 0o644); err != nil {
			t.Fatal(err)
		}
		logPath := filepath.Join(dir, "tinyproxy.log")
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-d", "-c", conf)
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("run %s: %v", bin, err)
		}
		logf.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		host := fmt.Sprintf("127.0.0.1:%d", port)
		if err := waitListen("tcp", host, done, 10*time.Second); err != nil {
			_ = cmd.Process.Kill()
			<-done
			lastErr = fmt.Errorf("tinyproxy on %s: %w; log: %s", host, err, tail(logPath))
			continue
		}
		t.Cleanup(func() { stopProcess(cmd, done, 5*time.Second) })
		return &Tinyproxy{Host: host, URL: "http://" + host}
	}
	t.Fatalf("start tinyproxy: %v", lastErr)
	return nil
}

// waitListen polls until addr accepts connections on network ("tcp", "unix"), the process
// exits, or timeout passes.
func waitListen(network, addr string, exited <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-exited:
			return fmt.Errorf("process exited before listening")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening within %s: %w", timeout, err)
		}
	}
}

// stopProcess sends cmd SIGTERM and waits up to grace for done (closed when it exited),
// then kills it.
func stopProcess(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}
