package testenv

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
	"github.com/stretchr/testify/require"
)

// DockerEngine is a Docker engine's API on a unix socket, for tests of archc's docker
// output (there is no Docker engine on the test machines): GET /_ping and POST
// /images/load, which accepts an archive only when ReadDockerArchive does (what `docker
// load` checks), and answers as the engine does: 200, then the result or an error in the
// JSON stream.
type DockerEngine struct {
	// Socket is the unix socket's path (DOCKER_HOST=unix://Socket).
	Socket string
	// StopEarly answers 500 before reading the body, as an engine out of disk space does.
	StopEarly bool

	mu    sync.Mutex
	loads []DockerArchive
}

// StartDockerEngine starts a DockerEngine; it stops when the test ends.
func StartDockerEngine(t *testing.T) *DockerEngine {
	t.Helper()
	dir, err := os.MkdirTemp("", "engine") // unix socket paths are short (108 bytes)
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &DockerEngine{Socket: filepath.Join(dir, "docker.sock")}
	l, err := net.Listen("unix", e.Socket)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(e)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

func (e *DockerEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_ping":
		fmt.Fprint(w, "OK")
	case r.Method == http.MethodPost && r.URL.Path == "/images/load":
		if e.StopEarly {
			http.Error(w, `{"message":"no space left on device"}`, http.StatusInternalServerError)
			return
		}
		a, err := ReadDockerArchive(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			json.NewEncoder(w).Encode(map[string]any{"errorDetail": map[string]string{"message": err.Error()}, "error": err.Error()})
			return
		}
		e.mu.Lock()
		e.loads = append(e.loads, a)
		e.mu.Unlock()
		for _, tag := range a.RepoTags {
			json.NewEncoder(w).Encode(map[string]string{"stream": "Loaded image: " + tag + "\n"})
		}
	default:
		http.NotFound(w, r)
	}
}

// Loaded are the archives the engine accepted, in order.
func (e *DockerEngine) Loaded() []DockerArchive {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]DockerArchive(nil), e.loads...)
}

// DockerArchive is what a `docker load` archive holds.
type DockerArchive struct {
	RepoTags []string
	Config   ocispecs.Image
	Layers   []digest.Digest
	// Files are the regular files of the image's layers, the last layer winning.
	Files map[string]string
	// Digest is the archive's own digest.
	Digest digest.Digest
}

// ReadDockerArchive reads an archive and checks what `docker load` checks: one
// manifest.json entry; its config and each layer present under the digest its name says;
// one layer per rootfs.diff_ids entry, with that uncompressed digest.
func ReadDockerArchive(r io.Reader) (DockerArchive, error) {
	a := DockerArchive{Files: map[string]string{}}
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
		if dt, err = gunzipped(dt); err != nil {
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

func gunzipped(dt []byte) ([]byte, error) {
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
