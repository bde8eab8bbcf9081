package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

const dockerSpec = `
platforms = ["linux/amd64"]
registry "docker.io" { mirrors = ["%[1]s"] }
component "app" {
  context     = "./app"
  tags        = ["%[2]s/docker/app:v1", "%[2]s/docker/app:latest"]
  output      = "docker"
  output_path = "out/app.tar"
}
`

// testDockerOutput: output docker writes a `docker load` archive (manifest.json naming
// every tag, the config and the layers under their digests) to output_path when no Docker
// engine answers, with the command to load it; with DOCKER_HOST naming an engine's unix
// socket, the archive is streamed into its image load API as well. A real engine is not
// part of this test: a fake one checks the archive as `docker load` does.
func testDockerOutput(t *testing.T, e *env, reg registryClient) {
	dir := e.customProject(t, dockerSpec, map[string]string{
		"app/Dockerfile": "FROM busybox\nRUN echo docker > /hello\nENV GREETING=hi\n",
	})
	tags := []string{e.push.Host + "/docker/app:latest", e.push.Host + "/docker/app:v1"}
	tarball := filepath.Join(dir, "out", "app.tar")

	t.Run("no engine: a tarball", func(t *testing.T) {
		t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(dir, "no-engine.sock"))
		r := e.run(t, dir, "apply", "--progress=plain")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "docker "+tags[1]+" → out/app.tar", "the plan's output line")
		assert.Contains(t, r.stderr, "component app: wrote out/app.tar (no Docker engine: unix://")
		assert.Contains(t, r.stderr, "load it with: docker load -i out/app.tar")

		f, err := os.Open(tarball)
		require.NoError(t, err)
		defer f.Close()
		a, err := testenv.ReadDockerArchive(f)
		require.NoError(t, err, "a docker-loadable archive")
		assert.ElementsMatch(t, tags, a.RepoTags)
		require.Len(t, a.Layers, 2, "busybox's layer and the RUN's")
		assert.Equal(t, "amd64", a.Config.Architecture)
		assert.Contains(t, a.Config.Config.Env, "GREETING=hi", "the compile's image config")
		assert.Equal(t, "docker\n", a.Files["hello"], "the RUN step's file, in the last layer")
		assert.False(t, reg.exists(t, "docker/app", "v1"), "output docker pushes nothing")
	})

	t.Run("an engine at DOCKER_HOST", func(t *testing.T) {
		require.NoError(t, os.Remove(tarball))
		engine := testenv.StartDockerEngine(t)
		t.Setenv("DOCKER_HOST", "unix://"+engine.Socket)
		r := e.run(t, dir, "apply", "--progress=plain")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, fmt.Sprintf("component app: loaded %s, %s into the Docker engine at unix://%s; also wrote out/app.tar", tags[0], tags[1], engine.Socket))

		loads := engine.Loaded()
		require.Len(t, loads, 1, "one archive loaded")
		assert.ElementsMatch(t, tags, loads[0].RepoTags)
		assert.Equal(t, "docker\n", loads[0].Files["hello"])
		written, err := os.ReadFile(tarball)
		require.NoError(t, err, "output_path is written too")
		assert.Equal(t, digest.FromBytes(written), loads[0].Digest, "the engine got the same archive")
	})
}
