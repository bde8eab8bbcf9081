package solver

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
)

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
