package doctor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// startNode starts bin/buildkitd as a remote node with its own buildkitd.toml (config),
// on a unix socket, and returns its address once it lists workers. It stops on cleanup.
func startNode(t *testing.T, bin, config string) string {
	t.Helper()
	// The root is not under t.TempDir: the daemon's mounts must be gone before removal.
	root, err := os.MkdirTemp("", "archc-doctor-node-")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(root, "buildkitd.toml"), []byte(config), 0o600))
	addr := "unix://" + filepath.Join(root, "buildkitd.sock")
	logPath := filepath.Join(root, "buildkitd.log")
	logf, err := os.Create(logPath)
	require.NoError(t, err)
	cmd := exec.Command(bin, "--addr", addr, "--root", filepath.Join(root, "state"), "--config", filepath.Join(root, "buildkitd.toml"),
		"--oci-worker=true", "--containerd-worker=false")
	cmd.Env = append(os.Environ(), "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		logf.Close()
		_ = os.RemoveAll(root)
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := listWorkers(ctx, addr)
		cancel()
		if err == nil {
			return addr
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("buildkitd exited during startup: %s", log)
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("buildkitd at %s did not answer within 60s: %v", addr, err)
		}
	}
}

func listWorkers(ctx context.Context, addr string) error {
	c, err := client.New(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	ws, err := c.ListWorkers(ctx)
	if err == nil && len(ws) == 0 {
		err = errors.New("no workers yet")
	}
	return err
}

// TestNodeProbes runs doctor's node checks against real buildkitd nodes, each with its own
// config, and a loopback registry reached two ways: plain HTTP, and https through a TLS
// front whose CA the spec names (registry { ca }).
//   - Both nodes read the pinned base through archc's session store and run a step on each
//     routed platform (arm64 by emulation when this machine has it).
//   - The plain-HTTP host needs nothing of a node: apply's push sets registry.insecure and
//     BuildKit speaks plain HTTP to loopback by default, so both probes pass, as apply would.
//   - The CA host: the node with an empty config cannot write there (it does not speak TLS
//     to it), the node whose config carries the CA can; the failure names the node, the
//     host and the [registry] block its config lacks.
//   - A node whose block lists a platform its workers cannot run, with no other builder for
//     it, fails.
func TestNodeProbes(t *testing.T) {
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	bin := testenv.Require(t, testenv.PartBuildkitd)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	reg := testenv.StartRegistry(t)
	img := testenv.PushBusybox(t, reg, "library/busybox", "1.36")
	front := testenv.StartTLSFront(t, reg.URL)

	var bare, configured string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); bare = startNode(t, bin, "debug = false\n") }()
	go func() {
		defer wg.Done()
		configured = startNode(t, bin, fmt.Sprintf("debug = false\n[registry.%q]\n  http = false\n  ca = [%q]\n", front.Host, front.CAFile))
	}()
	wg.Wait()

	plats := []string{"linux/amd64"}
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-aarch64"); err == nil {
		plats = append(plats, "linux/arm64")
	}
	body := mirrorSpec(reg.URL, plats...) +
		fmt.Sprintf("registry %q {\n  http = true\n}\nregistry %q {\n  ca = %q\n}\n", reg.Host, front.Host, front.CAFile) +
		fmt.Sprintf("builder \"bare\" {\n  address = %q\n}\nbuilder \"configured\" {\n  address = %q\n}\n", bare, configured) +
		fmt.Sprintf("component \"app\" {\n  context = \"./app\"\n  output = \"registry\"\n  tags = [%q, %q]\n  cache_to = [%q]\n}\n",
			reg.Host+"/app:v1", front.Host+"/app:v1", "type=registry,ref="+reg.Host+"/cache/app,mode=max")
	s := loadSpec(t, body)
	writeLock(t, s, img, reg.Host)
	o := testOptions(t, s.Dir)
	r := runBuilderChecks(s, o)
	for _, f := range r.Findings {
		t.Logf("%s %s: %s | %s", f.Verdict, f.Name, f.Checked, f.Cause)
	}

	for _, node := range []string{"bare", "configured"} {
		f := *r.Find("probe " + node)
		assertFinding(t, f, OK, "FROM docker.io/library/busybox:1.36@sha256:", "", "")
		for _, p := range plats {
			assert.Contains(t, f.Checked, p+": FROM")
		}
		assert.Equal(t, len(plats), strings.Count(f.Checked, "→ read and ran"), "a step ran on every routed platform")
	}
	ok := *r.Find("push configured")
	assertFinding(t, ok, OK, "pushed a probe image by digest to "+front.Host+"/app/archc-doctor-probe", "", "")
	assert.Contains(t, ok.Checked, "pushed a probe image by digest to "+reg.Host+"/app/archc-doctor-probe")
	assert.Contains(t, ok.Checked, "pushed a probe image by digest to "+reg.Host+"/cache/app/archc-doctor-probe (for app's registry cache export")
	bad := *r.Find("push bare")
	assertFinding(t, bad, Fail, `builder "bare" at `+bare+" pushed a probe image by digest to "+front.Host,
		"the node cannot write to "+front.Host, fmt.Sprintf("[registry.%q]\n    http = false\n    ca = [%q]", front.Host, front.CAFile))
	assert.Contains(t, bad.Fix, front.Host+" speaks https and the node tried plain HTTP")
	assert.NotContains(t, bad.Cause, reg.Host+":", "the plain-HTTP host is not what failed")
	assert.Contains(t, bad.Fix, "its own buildkitd.toml")

	// The probes wrote where they say, and only there.
	catalog := get200(t, reg.URL+"/v2/_catalog")
	assert.Contains(t, catalog, `"app/archc-doctor-probe"`)
	assert.Contains(t, catalog, `"cache/app/archc-doctor-probe"`)
	assert.NotContains(t, catalog, `"app"`, "nothing of the component's own was written")
	resp, err := http.Get(reg.URL + "/v2/app/archc-doctor-probe/tags/list")
	require.NoError(t, err)
	tags, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.NotContains(t, string(tags), `"tags":["`, "pushed by digest: no tag")

	t.Run("a platform the node's workers cannot run", func(t *testing.T) {
		body := mirrorSpec(reg.URL, "linux/s390x") +
			fmt.Sprintf("builder \"bare\" {\n  address = %q\n  platforms = [\"linux/s390x\"]\n}\n", bare)
		s := loadSpec(t, body)
		writeLock(t, s, img, reg.Host)
		f := runOneNamed(t, s, testOptions(t, s.Dir), "probe bare")
		assertFinding(t, f, Fail, `builder "bare" at `+bare+" workers: linux/386, linux/amd64",
			"its block lists linux/s390x, which its workers cannot run", `remove the platform from builder "bare" { platforms }`)
		assert.Contains(t, f.Cause, "no other builder that is up runs linux/s390x")
	})
}

func get200(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}
