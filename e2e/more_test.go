package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// customProject writes spec (with %[1]s = the mirror URL, %[2]s = the push host) and files.
func (e *env) customProject(t *testing.T, spec string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	files["archbuild.hcl"] = fmt.Sprintf(spec, e.mirror.URL, e.push.Host)
	write(t, dir, files)
	return dir
}

const failingSpec = `
platforms = ["linux/amd64"]
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
component "slow" {
  context = "./slow"
  tags    = ["%[2]s/fail/slow:v1"]
}
component "bad" {
  context = "./bad"
  tags    = ["%[2]s/fail/bad:v1"]
}
`

func testFailure(t *testing.T, e *env, reg registryClient) {
	files := func(sleep int) map[string]string {
		return map[string]string{
			"slow/Dockerfile": fmt.Sprintf("FROM busybox\nRUN sleep %d && echo done > /done\n", sleep),
			"bad/Dockerfile":  "FROM busybox\nRUN echo preparing\nRUN echo about to fail && echo second line && exit 3\n",
		}
	}
	t.Run("a failure names component, platform, line and log; others are cancelled", func(t *testing.T) {
		dir := e.customProject(t, failingSpec, files(25))
		r := e.run(t, dir, "apply", "--progress=plain")
		require.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "component bad (linux/amd64)")
		assert.Contains(t, r.stderr, "bad/Dockerfile:3\n-----", "named through the definition's source map")
		assert.Contains(t, r.stderr, "RUN echo about to fail")
		assert.Contains(t, r.stderr, "second line")
		assert.Less(t, r.took, 20*time.Second, "the slow component was cancelled, not waited for")
		assert.False(t, reg.exists(t, "fail/slow", "v1"))
	})
	t.Run("--keep-going lets independent components finish", func(t *testing.T) {
		dir := e.customProject(t, failingSpec, files(2))
		r := e.run(t, dir, "apply", "--progress=plain", "--keep-going")
		require.Equal(t, 1, r.code)
		assert.True(t, reg.exists(t, "fail/slow", "v1"))
		assert.False(t, reg.exists(t, "fail/bad", "v1"))
	})
}

const emulationSpec = `
platforms = ["linux/s390x"]
registry "%[2]s" { http = true }
component "z" {
  context = "./z"
  tags    = ["%[2]s/emu/z:v1"]
}
`

func testMissingEmulation(t *testing.T, e *env, reg registryClient) {
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-s390x"); err == nil {
		t.Skip("qemu-s390x is registered on this machine")
	}
	dir := e.customProject(t, emulationSpec, map[string]string{"z/Dockerfile": "FROM scratch\nCOPY Dockerfile /\n"})
	r := e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "no builder can run linux/s390x")
	assert.Contains(t, r.stderr, "qemu-s390x")
	assert.Contains(t, r.stderr, "binfmt_misc")
	assert.False(t, reg.exists(t, "emu/z", "v1"))
}

func testInterrupt(t *testing.T, e *env) {
	// Each RUN prints a line its command text does not contain (upper case), so the log
	// shows the process runs, not only that BuildKit announced the step.
	dir := e.customProject(t, failingSpec, map[string]string{
		"slow/Dockerfile": "FROM busybox\nRUN echo slow is running | tr a-z A-Z && sleep 60\n",
		"bad/Dockerfile":  "FROM busybox\nRUN echo bad is running | tr a-z A-Z && sleep 61\n",
	})
	cmd := exec.Command(e.bin, "apply", "--progress=plain")
	cmd.Dir = dir
	cmd.Env = e.environ()
	out := newWatchedOutput()
	cmd.Stderr, cmd.Stdout = out, out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() }) // a failed require below must not leave it running
	// Interrupt once both RUN steps are running.
	require.True(t, out.waitFor(60*time.Second, "SLOW IS RUNNING", "BAD IS RUNNING"),
		"the RUN steps did not start:\n%s", tail(out.String(), 15))
	start := time.Now()
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err := cmd.Wait()
	require.Error(t, err)
	assert.Less(t, time.Since(start), 20*time.Second, "Ctrl-C cancels the solves")
	t.Logf("interrupted apply:\n%s", tail(out.String(), 15))

	st := e.run(t, dir, "builder", "status")
	require.Equal(t, 0, st.code)
	assert.Contains(t, st.stdout, "state:     running")
	// The builder still builds.
	r := e.run(t, dir, "apply", "--progress=quiet", "--dry-run")
	assert.Equal(t, 0, r.code)
}

const tokenSpec = `
platforms = ["linux/amd64", "linux/arm64"]
proxy {
  http_proxy = "%[3]s"
  no_proxy   = ["localhost", "127.0.0.1"]
}
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
component "tiny" {
  context = "./tiny"
  tags    = ["%[2]s/token/tiny:v1"]
}
`

// testTokenAuthViaProxy: the docker.io mirror wants Bearer tokens from a realm that
// resolves only through the spec's proxy (the classic "failed to fetch oauth token").
func testTokenAuthViaProxy(t *testing.T, e *env, reg registryClient) {
	testenv.PushTiny(t, e.mirror, "library/tiny", "latest")
	tok := testenv.StartTokenAuth(t, e.mirror.URL)
	px := testenv.StartHTTPProxy(t, testenv.WithHostOverride(testenv.DefaultRealmHost, tok.TokenHost))
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"archbuild.hcl":   fmt.Sprintf(tokenSpec, tok.URL, e.push.Host, px.URL),
		"tiny/Dockerfile": "FROM tiny\nCOPY Dockerfile /built-from\n",
	})
	r := e.run(t, dir, "plan")
	require.Equal(t, 0, r.code, r.stderr)
	planned := tok.TokensIssued()
	r = e.run(t, dir, "apply", "--progress=plain", "--cache-dir", filepath.Join(dir, ".cache"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Greater(t, tok.TokensIssued(), planned, "the builder's pulls were authorized")
	assert.Greater(t, px.Forwarded(testenv.DefaultRealmHost)+px.Connects(testenv.DefaultRealmHost), 0)
	img := reg.image(t, "token/tiny", "v1")
	assert.Len(t, img.Manifests, 2)
}

const splitSpec = `
platforms = ["linux/amd64", "linux/arm64"]
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
builder "amd" { platforms = ["linux/amd64"] }
builder "arm" { platforms = ["linux/arm64"] }
component "split" {
  context = "./split"
  tags    = ["%[2]s/split/app:v1"]
}
`

// testTwoBuilders routes each platform to its own builder; archc assembles the index.
func testTwoBuilders(t *testing.T, e *env, reg registryClient) {
	dir := e.customProject(t, splitSpec, map[string]string{"split/Dockerfile": "FROM busybox\nRUN uname -m > /arch\n"})
	t.Cleanup(func() { e.run(t, dir, "builder", "down") })
	r := e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)
	img := reg.image(t, "split/app", "v1")
	require.Len(t, img.Manifests, 2)
	for p, want := range map[string]string{"linux/amd64": "x86_64", "linux/arm64": "aarch64"} {
		arch, err := reg.file(t, "split/app", img.Manifests[p], "arch")
		require.NoError(t, err, p)
		assert.Equal(t, want, strings.TrimSpace(arch))
	}
	assert.Regexp(t, `split\s+linux/amd64\s+amd\s`, r.stdout)
	assert.Regexp(t, `split\s+linux/arm64\s+arm\s`, r.stdout)
}

// watchedOutput collects a process's output, written by exec's goroutine, and lets the test
// wait until it contains given text.
type watchedOutput struct {
	mu      sync.Mutex
	buf     strings.Builder
	written chan struct{} // poked (never blocking) after each write
}

func newWatchedOutput() *watchedOutput { return &watchedOutput{written: make(chan struct{}, 1)} }

func (w *watchedOutput) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	select {
	case w.written <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (w *watchedOutput) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// waitFor reports whether every one of texts appeared within timeout.
func (w *watchedOutput) waitFor(timeout time.Duration, texts ...string) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s := w.String()
		if !slices.ContainsFunc(texts, func(x string) bool { return !strings.Contains(s, x) }) {
			return true
		}
		select {
		case <-w.written:
		case <-timer.C:
			return false
		}
	}
}
