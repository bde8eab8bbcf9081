package e2e

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

const outputsSpec = `
platforms = ["linux/amd64", "linux/arm64"]
registry "docker.io" { mirrors = ["%[1]s"] }
component "tarball" {
  context     = "./src"
  output      = "oci"
  output_path = "out/image.tar"
}
component "files" {
  context     = "./src"
  output      = "local"
  output_path = "out/files"
}
component "warm" {
  context = "./src"
  output  = "cache-only"
}
`

// testOutputs: oci writes an OCI layout tarball with both platforms, local writes each
// platform's files, cache-only builds without exporting.
func testOutputs(t *testing.T, e *env) {
	dir := e.customProject(t, outputsSpec, map[string]string{
		"src/Dockerfile": "FROM busybox\nRUN uname -m > /arch\n",
	})
	r := e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)

	idx := ociIndex(t, filepath.Join(dir, "out", "image.tar"))
	require.Len(t, idx.Manifests, 1, "one image in the layout")
	assert.Equal(t, ocispecs.MediaTypeImageIndex, idx.Manifests[0].MediaType, "a multi-platform index")

	for p, want := range map[string]string{"linux_amd64": "x86_64", "linux_arm64": "aarch64"} {
		b, err := os.ReadFile(filepath.Join(dir, "out", "files", p, "arch"))
		require.NoError(t, err, p)
		assert.Equal(t, want, strings.TrimSpace(string(b)))
	}
	assert.Regexp(t, `warm\s+linux/amd64\s+local\s+-`, r.stdout, "cache-only exports nothing")
}

func ociIndex(t *testing.T, path string) ocispecs.Index {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		require.NoError(t, err, "index.json not found in %s", path)
		if h.Name == "index.json" {
			var idx ocispecs.Index
			dt, err := io.ReadAll(tr)
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(dt, &idx))
			return idx
		}
	}
}

const remoteSpec = `
platforms = ["linux/amd64"]
registry "docker.io" { mirrors = [%[3]s] }
registry "%[2]s" { http = true }
builder "remote" { address = "%[4]s" }
component "r" {
  context = "./r"
  tags    = ["%[2]s/remote/r:v1"]
}
`

// testRemoteBuilder uses the local daemon through a builder block with an address, as a
// remote node: archc does not manage its config, yet a dead mirror costs it nothing, since
// builders read bases from archc and never through a mirror.
func testRemoteBuilder(t *testing.T, e *env, reg registryClient) {
	addr := "unix://" + filepath.Join(e.state, "archc", "builders", "local", "buildkitd.sock")
	project := func(mirrors ...string) string {
		quoted := make([]string, len(mirrors))
		for i, m := range mirrors {
			quoted[i] = fmt.Sprintf("%q", m)
		}
		dir := t.TempDir()
		write(t, dir, map[string]string{
			"archbuild.hcl": fmt.Sprintf(remoteSpec, "", e.push.Host, strings.Join(quoted, ", "), addr),
			"r/Dockerfile":  "FROM busybox\nRUN echo remote > /where\n",
		})
		return dir
	}
	up := e.run(t, e.project(t, specData{}), "builder", "up")
	require.Equal(t, 0, up.code, up.stderr)

	r := e.run(t, project(e.mirror.URL), "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `r\s+linux/amd64\s+remote\s+sha256:`, r.stdout)
	assert.True(t, reg.exists(t, "remote/r", "v1"))

	hole := testenv.StartFaultProxy(t, e.mirror.URL)
	hole.Set(testenv.Blackhole())
	dir := project(hole.URL, e.mirror.URL)
	r = e.run(t, dir, "apply", "--progress=plain", "--cache-dir", filepath.Join(dir, ".cache"))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "unhealthy mirror "+hole.URL)
	assert.Contains(t, r.stderr, "warning: mirror "+hole.URL, "named again at the end")
	assert.Less(t, r.took, 30*time.Second)
}
