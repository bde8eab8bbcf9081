package e2e

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// env is what every scenario shares: archc's binaries, one state directory (so the local
// builder starts once and keeps its cache), a docker.io mirror seeded with busybox and a
// push registry.
type env struct {
	bin    string
	state  string
	cache  string
	docker string
	mirror *testenv.Registry
	push   *testenv.Registry
	proxy  *testenv.HTTPProxy
}

func setup(t *testing.T) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: skipped with -short")
	}
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	testenv.Require(t, testenv.PartQemuARM64)
	dir := testenv.BinDir(t)
	// Short paths: the builder's unix socket lives in the state directory.
	base, err := os.MkdirTemp("", "archc-e2e-")
	require.NoError(t, err)
	e := &env{bin: filepath.Join(dir, "archc"), state: filepath.Join(base, "state"), cache: filepath.Join(base, "cache"), docker: filepath.Join(base, "docker")}
	require.NoError(t, os.MkdirAll(e.docker, 0o700))
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	e.mirror = testenv.StartRegistry(t)
	testenv.PushBusybox(t, e.mirror, "library/busybox", "latest")
	e.push = testenv.StartRegistry(t)
	e.proxy = testenv.StartHTTPProxy(t)
	down := filepath.Join(e.project(t, specData{}), "archbuild.hcl")
	t.Cleanup(func() { e.run(t, "", "builder", "down", down) })
	return e
}

// result is one archc run.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// run runs archc in dir with args; it never fails the test itself.
func (e *env) run(t *testing.T, dir string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Dir = dir
	cmd.Env = e.environ()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run archc %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("archc %s: exit %d in %s\nstdout:\n%s\nstderr (tail):\n%s", strings.Join(args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, tail(r.stderr, 40))
	return r
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// specData fills specTemplate.
type specData struct {
	Mirrors   []string // docker.io mirror URLs
	Push      string   // push registry host
	Proxy     string   // proxy URL
	Repo      string   // repository prefix for tags
	Platforms []string
}

const specTemplate = `
platforms = [{{range $i, $p := .Platforms}}{{if $i}}, {{end}}"{{$p}}"{{end}}]
{{if .Proxy}}
proxy {
  http_proxy  = "{{.Proxy}}"
  https_proxy = "{{.Proxy}}"
  no_proxy    = ["localhost", "127.0.0.1"]
}
{{end}}
registry "docker.io" {
  mirrors = [{{range $i, $m := .Mirrors}}{{if $i}}, {{end}}"{{$m}}"{{end}}]
}
registry "{{.Push}}" {
  http = true
}

component "base" {
  context = "./base"
  tags    = ["{{.Push}}/{{.Repo}}/base:v1"]
}

component "app" {
  context  = "./app"
  contexts = { base = component.base }
  tags     = ["{{.Push}}/{{.Repo}}/app:v1"]
}
`

// project writes a two-component project for d into a new directory and returns it.
func (e *env) project(t *testing.T, d specData) string {
	t.Helper()
	dir := t.TempDir()
	e.writeSpec(t, dir, d)
	write(t, dir, map[string]string{
		"base/Dockerfile": `FROM busybox
RUN uname -m > /arch && echo "proxy=$HTTP_PROXY" > /proxy-seen
COPY . /src/
ENV GREETING=hello
ENTRYPOINT ["/bin/sh", "-c"]
`,
		"base/.dockerignore": "ignored.txt\n",
		"base/ignored.txt":   "must not be sent\n",
		"base/kept.txt":      "kept\n",
		"app/Dockerfile": `FROM base
RUN cat /arch > /app-arch && ls /src > /app-saw-src
`,
	})
	return dir
}

func (e *env) writeSpec(t *testing.T, dir string, d specData) {
	t.Helper()
	if len(d.Platforms) == 0 {
		d.Platforms = []string{"linux/amd64", "linux/arm64"}
	}
	if d.Push == "" {
		d.Push = e.push.Host
	}
	if len(d.Mirrors) == 0 {
		d.Mirrors = []string{e.mirror.URL}
	}
	if d.Repo == "" {
		d.Repo = "e2e"
	}
	var b bytes.Buffer
	require.NoError(t, template.Must(template.New("spec").Parse(specTemplate)).Execute(&b, d))
	write(t, dir, map[string]string{"archbuild.hcl": b.String()})
}

func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
}

// environ is archc's environment: private state, cache and Docker config, no proxy.
func (e *env) environ() []string {
	return append(os.Environ(),
		"XDG_STATE_HOME="+e.state, "XDG_CACHE_HOME="+e.cache, "DOCKER_CONFIG="+e.docker,
		"HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=", "NO_COLOR=1", "ARCHC_TIMING=1")
}
