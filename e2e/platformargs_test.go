package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const platformArgsSpec = `
platforms = ["linux/amd64", "linux/arm64"]
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
component "exporter" {
  context = "./exporter"
  args    = { ARCH = platform.arch, FLAVOUR = null }
  tags    = ["%[2]s/pargs/exporter:v1"]
}
`

// testPlatformArgs: a two-platform component whose args use platform.arch builds each
// platform with its own value (prometheus' ARCH, kube-state-metrics' GOARCH), the plan
// shows each build's args, and an arg set to null keeps the Dockerfile's default.
func testPlatformArgs(t *testing.T, e *env, reg registryClient) {
	dir := e.customProject(t, platformArgsSpec, map[string]string{
		"exporter/Dockerfile": "FROM busybox\nARG ARCH=unset\nARG FLAVOUR=vanilla\nRUN echo \"$ARCH $FLAVOUR $(uname -m)\" > /built\n",
	})
	r := e.run(t, dir, "plan", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, `"ARCH": "amd64"`)
	assert.Contains(t, r.stdout, `"ARCH": "arm64"`)
	assert.NotContains(t, r.stdout, `"FLAVOUR"`, "a null arg is left out")

	r = e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)
	img := reg.image(t, "pargs/exporter", "v1")
	for p, want := range map[string]string{"linux/amd64": "amd64 vanilla x86_64\n", "linux/arm64": "arm64 vanilla aarch64\n"} {
		m, ok := img.Manifests[p]
		require.True(t, ok, p)
		got, err := reg.file(t, "pargs/exporter", m, "built")
		require.NoError(t, err)
		assert.Equal(t, want, got, p)
	}
}
