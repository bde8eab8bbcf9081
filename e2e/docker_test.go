package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		a, err := readDockerArchive(f)
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
		engine := startDockerEngine(t)
		t.Setenv("DOCKER_HOST", "unix://"+engine.socket)
		r := e.run(t, dir, "apply", "--progress=plain")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, fmt.Sprintf("component app: loaded %s, %s into the Docker engine at unix://%s; also wrote out/app.tar", tags[0], tags[1], engine.socket))

		loads := engine.loaded()
		require.Len(t, loads, 1, "one archive loaded")
		assert.ElementsMatch(t, tags, loads[0].RepoTags)
		assert.Equal(t, "docker\n", loads[0].Files["hello"])
		written, err := os.ReadFile(tarball)
		require.NoError(t, err, "output_path is written too")
		assert.Equal(t, digest.FromBytes(written), loads[0].Digest, "the engine got the same archive")
	})
}

// dockerEngine is a Docker engine's API on a unix socket: GET /_ping and POST /images/load,
// which accepts an archive only when readDockerArchive does.
type dockerEngine struct {
	socket string
	mu     sync.Mutex
	loads  []dockerArchive
}

func startDockerEngine(t *testing.T) *dockerEngine {
	t.Helper()
	dir, err := os.MkdirTemp("", "engine") // unix socket paths are short
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &dockerEngine{socket: filepath.Join(dir, "docker.sock")}
	l, err := net.Listen("unix", e.socket)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(e)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

func (e *dockerEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_ping":
		fmt.Fprint(w, "OK")
	case r.Method == http.MethodPost && r.URL.Path == "/images/load":
		a, err := readDockerArchive(r.Body)
		if err != nil {
			json.NewEncoder(w).Encode(map[string]any{"errorDetail": map[string]string{"message": err.Error()}, "error": err.Error()})
			return
		}
		e.mu.Lock()
		e.loads = append(e.loads, a)
		e.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]string{"stream": "Loaded image: " + a.RepoTags[0] + "\n"})
	default:
		http.NotFound(w, r)
	}
}

func (e *dockerEngine) loaded() []dockerArchive {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dockerArchive(nil), e.loads...)
}

// dockerArchive is what a `docker load` archive holds.
type dockerArchive struct {
	RepoTags []string
	Config   ocispecs.Image
	Layers   []digest.Digest
	// Files are the regular files of the image's layers, the last layer winning.
	Files map[string]string
	// Digest is the archive's own digest.
	Digest digest.Digest
}

// readDockerArchive reads an archive and checks what `docker load` checks: one
// manifest.json entry; its config and each layer present under the digest its name says;
// one layer per rootfs.diff_ids entry, with that uncompressed digest.
func readDockerArchive(r io.Reader) (dockerArchive, error) {
	a := dockerArchive{Files: map[string]string{}}
	h := digest.SHA256.Digester()
	files := map[string][]byte{}
	tr := tar.NewReader(io.TeeReader(r, h.Hash()))
	for {
		hd, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return a, fmt.Errorf("read archive: %w", err)
		}
		if hd.Typeflag == tar.TypeReg {
			if files[path.Clean(hd.Name)], err = io.ReadAll(tr); err != nil {
				return a, err
			}
		}
	}
	_, _ = io.Copy(h.Hash(), r) // tar's end padding
	a.Digest = h.Digest()
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		return a, fmt.Errorf("manifest.json: %w", err)
	}
	if len(manifest) != 1 {
		return a, fmt.Errorf("manifest.json lists %d images, want 1", len(manifest))
	}
	m := manifest[0]
	a.RepoTags = m.RepoTags
	cfg, _, err := archiveBlob(files, m.Config)
	if err != nil {
		return a, fmt.Errorf("config: %w", err)
	}
	if err := json.Unmarshal(cfg, &a.Config); err != nil {
		return a, fmt.Errorf("config: %w", err)
	}
	if len(a.Config.RootFS.DiffIDs) != len(m.Layers) {
		return a, fmt.Errorf("%d layers for %d diff_ids", len(m.Layers), len(a.Config.RootFS.DiffIDs))
	}
	for i, l := range m.Layers {
		dt, d, err := archiveBlob(files, l)
		if err != nil {
			return a, fmt.Errorf("layer %d: %w", i, err)
		}
		if dt, err = gunzip(dt); err != nil {
			return a, fmt.Errorf("layer %d: %w", i, err)
		}
		if got := digest.FromBytes(dt); got != a.Config.RootFS.DiffIDs[i] {
			return a, fmt.Errorf("layer %d: uncompressed %s, the config says %s", i, got, a.Config.RootFS.DiffIDs[i])
		}
		if err := layerFiles(dt, a.Files); err != nil {
			return a, fmt.Errorf("layer %d: %w", i, err)
		}
		a.Layers = append(a.Layers, d)
	}
	return a, nil
}

// archiveBlob is the file name ("blobs/sha256/HEX") checked against the digest it names.
func archiveBlob(files map[string][]byte, name string) ([]byte, digest.Digest, error) {
	dt, ok := files[path.Clean(name)]
	if !ok {
		return nil, "", fmt.Errorf("%s is not in the archive", name)
	}
	want := digest.NewDigestFromEncoded(digest.SHA256, path.Base(name))
	if got := digest.FromBytes(dt); got != want {
		return nil, "", fmt.Errorf("%s holds %s", name, got)
	}
	return dt, want, nil
}

func gunzip(dt []byte) ([]byte, error) {
	if !bytes.HasPrefix(dt, []byte{0x1f, 0x8b}) {
		return dt, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(dt))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// layerFiles adds a layer's small regular files to files.
func layerFiles(layer []byte, files map[string]string) error {
	tr := tar.NewReader(bytes.NewReader(layer))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg && h.Size < 4096 {
			dt, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			files[path.Clean(h.Name)] = string(dt)
		}
	}
}
