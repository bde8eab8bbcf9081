package solver

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
	"github.com/stretchr/testify/require"
)

// fakeEngine is a Docker engine's API on a unix socket: GET /_ping and POST /images/load,
// which reads the archive and accepts it only when `docker load` would (see
// checkDockerArchive).
type fakeEngine struct {
	socket string
	// stopEarly answers 500 before reading the body, as an engine out of disk space does.
	stopEarly bool

	mu    sync.Mutex
	loads []dockerArchive
}

func startFakeEngine(t *testing.T) *fakeEngine {
	t.Helper()
	// Unix socket paths are short (108 bytes): t.TempDir() can be too long.
	dir, err := os.MkdirTemp("", "engine")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &fakeEngine{socket: filepath.Join(dir, "docker.sock")}
	l, err := net.Listen("unix", e.socket)
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(e)
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return e
}

func (e *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/_ping":
		fmt.Fprint(w, "OK")
	case r.Method == http.MethodPost && r.URL.Path == "/images/load":
		if e.stopEarly {
			http.Error(w, `{"message":"no space left on device"}`, http.StatusInternalServerError)
			return
		}
		a, err := checkDockerArchive(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if err != nil {
			// As the engine does: 200, then an error message in the stream.
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

func (e *fakeEngine) loaded() []dockerArchive {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]dockerArchive(nil), e.loads...)
}

// dockerArchive is what checkDockerArchive found in a `docker load` archive.
type dockerArchive struct {
	RepoTags []string
	Config   digest.Digest
	Layers   []digest.Digest
}

// checkDockerArchive reads a `docker load` archive and checks what the engine checks:
// one manifest.json entry, its config and layers present under their digests, one layer
// per rootfs.diff_ids entry with that uncompressed digest.
func checkDockerArchive(r io.Reader) (dockerArchive, error) {
	var a dockerArchive
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return a, fmt.Errorf("read archive: %w", err)
		}
		if h.Typeflag == tar.TypeReg {
			if files[path.Clean(h.Name)], err = io.ReadAll(io.LimitReader(tr, 64<<20)); err != nil {
				return a, fmt.Errorf("read %s: %w", h.Name, err)
			}
		}
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		return a, fmt.Errorf("manifest.json: %w", err)
	}
	if len(manifest) != 1 {
		return a, fmt.Errorf("manifest.json has %d images, want 1", len(manifest))
	}
	m := manifest[0]
	a.RepoTags = m.RepoTags
	cfg, d, err := archiveBlob(files, m.Config)
	if err != nil {
		return a, fmt.Errorf("config: %w", err)
	}
	a.Config = d
	var config struct {
		RootFS struct {
			DiffIDs []digest.Digest `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(cfg, &config); err != nil {
		return a, fmt.Errorf("config: %w", err)
	}
	if len(config.RootFS.DiffIDs) != len(m.Layers) {
		return a, fmt.Errorf("%d layers for %d diff_ids", len(m.Layers), len(config.RootFS.DiffIDs))
	}
	for i, l := range m.Layers {
		dt, d, err := archiveBlob(files, l)
		if err != nil {
			return a, fmt.Errorf("layer %d: %w", i, err)
		}
		if dt, err = uncompressed(dt); err != nil {
			return a, fmt.Errorf("layer %d: %w", i, err)
		}
		if got := digest.FromBytes(dt); got != config.RootFS.DiffIDs[i] {
			return a, fmt.Errorf("layer %d: uncompressed %s, config says %s", i, got, config.RootFS.DiffIDs[i])
		}
		a.Layers = append(a.Layers, d)
	}
	return a, nil
}

// archiveBlob is the file at name, checked against the digest its name ends with
// ("blobs/sha256/HEX").
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

func uncompressed(dt []byte) ([]byte, error) {
	if !bytes.HasPrefix(dt, []byte{0x1f, 0x8b}) {
		return dt, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(dt))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// makeDockerArchive writes a one-layer archive as BuildKit's docker exporter lays it out.
func makeDockerArchive(t *testing.T, tags ...string) []byte {
	t.Helper()
	var layer bytes.Buffer
	ltw := tar.NewWriter(&layer)
	require.NoError(t, ltw.WriteHeader(&tar.Header{Name: "hello", Mode: 0o644, Size: 2, Typeflag: tar.TypeReg}))
	_, err := ltw.Write([]byte("hi"))
	require.NoError(t, err)
	require.NoError(t, ltw.Close())
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write(layer.Bytes())
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	config, err := json.Marshal(map[string]any{"architecture": "amd64", "os": "linux",
		"rootfs": map[string]any{"type": "layers", "diff_ids": []digest.Digest{digest.FromBytes(layer.Bytes())}}})
	require.NoError(t, err)
	blob := func(dt []byte) string { return "blobs/sha256/" + digest.FromBytes(dt).Encoded() }
	manifest, err := json.Marshal([]map[string]any{{"Config": blob(config), "RepoTags": tags, "Layers": []string{blob(gz.Bytes())}}})
	require.NoError(t, err)

	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, f := range []struct {
		name string
		dt   []byte
	}{{blob(config), config}, {blob(gz.Bytes()), gz.Bytes()}, {"manifest.json", manifest}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.dt)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(f.dt)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return out.Bytes()
}
