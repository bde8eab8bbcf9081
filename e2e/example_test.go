package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
)

// testExample applies examples/archbuild.hcl itself — its spec, Dockerfiles and contexts —
// with only its three loopback ports moved onto this run's mirror, push registry and proxy,
// as `make demo` does on the fixed ports; then doctor must find nothing wrong.
func testExample(t *testing.T, e *env, reg registryClient) {
	testenv.PushBusybox(t, e.mirror, "library/busybox", "1.36")
	dir := filepath.Join(t.TempDir(), "examples")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join("..", "examples"))))
	_ = os.Remove(filepath.Join(dir, registry.LockFileName)) // a local demo run's pins
	specPath := filepath.Join(dir, "archbuild.hcl")
	src, err := os.ReadFile(specPath)
	require.NoError(t, err)
	moved := strings.NewReplacer(
		"http://127.0.0.1:8888", e.proxy.URL,
		"127.0.0.1:5000", e.mirror.Host,
		"127.0.0.1:5001", e.push.Host,
	).Replace(string(src))
	require.NotEqual(t, string(src), moved, "the example names the demo's loopback ports")
	require.NoError(t, os.WriteFile(specPath, []byte(moved), 0o644))

	r := e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)

	base := reg.image(t, "demo/base", "dev")
	arch, err := reg.file(t, "demo/base", base.Manifests["linux/arm64"], "etc/arch")
	require.NoError(t, err)
	assert.Equal(t, "aarch64", strings.TrimSpace(arch), "base's RUN ran for arm64")

	tools := reg.image(t, "demo/tools", "dev")
	info, err := reg.file(t, "demo/tools", tools.Manifests["linux/arm64"], "etc/build-info")
	require.NoError(t, err)
	assert.Equal(t, "built on linux/amd64 for linux/arm64", strings.TrimSpace(info), "a $BUILDPLATFORM stage, copied into the arm64 image")

	app := reg.image(t, "demo/app", "dev")
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		require.Contains(t, app.Manifests, p)
		fromBase, err := reg.file(t, "demo/app", app.Manifests[p], "etc/archc-base")
		require.NoError(t, err, "app is built FROM the base component (%s)", p)
		assert.Equal(t, "archc base", strings.TrimSpace(fromBase))
		greeting, err := reg.file(t, "demo/app", app.Manifests[p], "usr/local/bin/greeting")
		require.NoError(t, err)
		assert.Contains(t, greeting, "hello from app", "the component's args reach the build")
		_, err = reg.file(t, "demo/app", app.Manifests[p], "etc/app/app.conf")
		assert.NoError(t, err)
	}

	testDoctorAllOK(t, e, dir)
}
