package e2e

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/require"
)

// registryClient reads what archc pushed, over plain HTTP on loopback.
type registryClient struct {
	base string // http://127.0.0.1:PORT
}

const acceptManifests = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, " +
	"application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json"

func (c registryClient) get(t *testing.T, path string) ([]byte, http.Header) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", acceptManifests)
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "GET %s: %s", path, body)
	return body, resp.Header
}

// image is one pushed tag: its index (or manifest) digest and per-platform manifests.
type image struct {
	Digest    string
	Manifests map[string]ocispecs.Manifest // "linux/arm64" -> manifest
	Configs   map[string]ocispecs.Image
}

func (c registryClient) image(t *testing.T, repo, ref string) image {
	t.Helper()
	body, h := c.get(t, "/v2/"+repo+"/manifests/"+ref)
	img := image{Digest: h.Get("Docker-Content-Digest"), Manifests: map[string]ocispecs.Manifest{}, Configs: map[string]ocispecs.Image{}}
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(body, &idx))
	if len(idx.Manifests) == 0 { // a single-platform manifest
		var m ocispecs.Manifest
		require.NoError(t, json.Unmarshal(body, &m))
		cfg := c.config(t, repo, m)
		img.Manifests[cfg.OS+"/"+cfg.Architecture] = m
		img.Configs[cfg.OS+"/"+cfg.Architecture] = cfg
		return img
	}
	for _, d := range idx.Manifests {
		if d.Platform == nil || d.Platform.OS == "unknown" { // attestations
			continue
		}
		body, _ := c.get(t, "/v2/"+repo+"/manifests/"+d.Digest.String())
		var m ocispecs.Manifest
		require.NoError(t, json.Unmarshal(body, &m))
		p := d.Platform.OS + "/" + d.Platform.Architecture
		img.Manifests[p] = m
		img.Configs[p] = c.config(t, repo, m)
	}
	return img
}

func (c registryClient) config(t *testing.T, repo string, m ocispecs.Manifest) ocispecs.Image {
	t.Helper()
	body, _ := c.get(t, "/v2/"+repo+"/blobs/"+m.Config.Digest.String())
	var cfg ocispecs.Image
	require.NoError(t, json.Unmarshal(body, &cfg))
	return cfg
}

var errNoFile = errors.New("file not in image")

// file returns a file's content from a manifest's layers (the last layer holding it wins).
func (c registryClient) file(t *testing.T, repo string, m ocispecs.Manifest, name string) (string, error) {
	t.Helper()
	name = strings.TrimPrefix(name, "/")
	var found *string
	for _, l := range m.Layers {
		body, _ := c.get(t, "/v2/"+repo+"/blobs/"+l.Digest.String())
		content, ok, err := fileInLayer(body, name)
		if err != nil {
			return "", fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		if ok {
			found = &content
		}
	}
	if found == nil {
		return "", errNoFile
	}
	return *found, nil
}

func fileInLayer(blob []byte, name string) (string, bool, error) {
	zr, err := gzip.NewReader(strings.NewReader(string(blob)))
	if err != nil {
		return "", false, err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return "", false, nil
		}
		if err != nil {
			return "", false, err
		}
		if strings.TrimPrefix(h.Name, "./") == name && h.Typeflag == tar.TypeReg {
			b, err := io.ReadAll(tr)
			return string(b), true, err
		}
	}
}

// exists reports whether repo:ref was pushed.
func (c registryClient) exists(t *testing.T, repo, ref string) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodHead, c.base+"/v2/"+repo+"/manifests/"+ref, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", acceptManifests)
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
