package testenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// epoch is the mtime of every tar entry, so layer digests are stable across runs.
var epoch = time.Unix(0, 0).UTC()

// Blob is one piece of content addressed by its digest.
type Blob struct {
	MediaType string
	Data      []byte
}

// Digest returns the blob's sha256 digest.
func (b Blob) Digest() digest.Digest { return digest.FromBytes(b.Data) }

// Descriptor returns the OCI descriptor of the blob.
func (b Blob) Descriptor() ocispec.Descriptor {
	return ocispec.Descriptor{MediaType: b.MediaType, Digest: b.Digest(), Size: int64(len(b.Data))}
}

// PlatformContent is a single-platform image: its manifest, config and layers.
type PlatformContent struct {
	Platform ocispec.Platform
	Manifest Blob
	Config   Blob
	Layers   []Blob
}

// Content is a multi-platform image ready to push: an OCI index over platform images.
type Content struct {
	Index     Blob
	Platforms []PlatformContent // in index order
}

// file is one tar entry of a synthetic layer.
type file struct {
	name     string // without leading slash
	mode     int64
	typ      byte
	data     []byte
	linkname string
}

// layer writes files, sorted by name, into a deterministic gzip tar and returns the layer blob
// and its diff ID (the digest of the uncompressed tar).
func layer(files []file) (Blob, digest.Digest, error) {
	sort.Slice(files, func(i, j int) bool { return files[i].name < files[j].name })
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, Typeflag: f.typ, Linkname: f.linkname,
			Size: int64(len(f.data)), ModTime: epoch, Format: tar.FormatPAX}
		if f.typ == tar.TypeDir {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return Blob{}, "", fmt.Errorf("tar %s: %w", f.name, err)
		}
		if _, err := tw.Write(f.data); err != nil {
			return Blob{}, "", fmt.Errorf("tar %s: %w", f.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return Blob{}, "", err
	}
	diffID := digest.FromBytes(raw.Bytes())
	var gz bytes.Buffer
	zw, err := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if err != nil {
		return Blob{}, "", err
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return Blob{}, "", err
	}
	if err := zw.Close(); err != nil {
		return Blob{}, "", err
	}
	return Blob{MediaType: ocispec.MediaTypeImageLayerGzip, Data: gz.Bytes()}, diffID, nil
}

// platformImage assembles config and manifest around the layers.
func platformImage(p ocispec.Platform, cfg ocispec.ImageConfig, layers []Blob, diffIDs []digest.Digest) (PlatformContent, error) {
	img := ocispec.Image{
		Created:  &epoch,
		Platform: p,
		Config:   cfg,
		RootFS:   ocispec.RootFS{Type: "layers", DiffIDs: diffIDs},
		History:  []ocispec.History{{Created: &epoch, CreatedBy: "archc testenv", Comment: "synthetic test image"}},
	}
	cb, err := json.Marshal(img)
	if err != nil {
		return PlatformContent{}, err
	}
	pc := PlatformContent{Platform: p, Config: Blob{MediaType: ocispec.MediaTypeImageConfig, Data: cb}, Layers: layers}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: pc.Config.Descriptor()}
	m.SchemaVersion = 2
	for _, l := range layers {
		m.Layers = append(m.Layers, l.Descriptor())
	}
	mb, err := json.Marshal(m)
	if err != nil {
		return PlatformContent{}, err
	}
	pc.Manifest = Blob{MediaType: ocispec.MediaTypeImageManifest, Data: mb}
	return pc, nil
}

// index wraps platform images into an OCI image index.
func index(pcs []PlatformContent) (*Content, error) {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex}
	idx.SchemaVersion = 2
	for _, pc := range pcs {
		d := pc.Manifest.Descriptor()
		p := pc.Platform
		d.Platform = &p
		idx.Manifests = append(idx.Manifests, d)
	}
	b, err := json.Marshal(idx)
	if err != nil {
		return nil, err
	}
	return &Content{Index: Blob{MediaType: ocispec.MediaTypeImageIndex, Data: b}, Platforms: pcs}, nil
}

// parsePlatform turns "linux/arm64" into an OCI platform; arm64 gets variant v8 as on docker.io.
func parsePlatform(s string) (ocispec.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] != "linux" {
		return ocispec.Platform{}, fmt.Errorf("platform %q: want linux/ARCH[/VARIANT]", s)
	}
	p := ocispec.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	} else if p.Architecture == "arm64" {
		p.Variant = "v8"
	}
	return p, nil
}

// BusyboxPlatforms are the platforms of the seeded busybox image, in index order.
var BusyboxPlatforms = []string{"linux/amd64", "linux/arm64"}

var (
	busyboxOnce    sync.Once
	busyboxContent *Content
	busyboxErr     error
)

// BusyboxContent builds (once per process) a linux/amd64 + linux/arm64 busybox image from the
// busybox-static binaries cached by scripts/setup.sh: one layer with /bin/busybox and its applet
// links, /etc/passwd, /etc/group, /root and /tmp; Env PATH and Cmd ["sh"]. Deterministic.
func BusyboxContent() (*Content, error) {
	busyboxOnce.Do(func() { busyboxContent, busyboxErr = buildBusybox() })
	return busyboxContent, busyboxErr
}

func buildBusybox() (*Content, error) {
	native, err := cachedBusybox("amd64")
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(native, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("list busybox applets with %s --list: %w", native, err)
	}
	applets := strings.Fields(string(out))
	var pcs []PlatformContent
	for _, ps := range BusyboxPlatforms {
		p, _ := parsePlatform(ps)
		bin, err := cachedBusybox(p.Architecture)
		if err != nil {
			return nil, err
		}
		pc, err := busyboxImage(p, bin, applets)
		if err != nil {
			return nil, fmt.Errorf("build busybox image for %s: %w", ps, err)
		}
		pcs = append(pcs, pc)
	}
	return index(pcs)
}

func busyboxImage(p ocispec.Platform, bin string, applets []string) (PlatformContent, error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return PlatformContent{}, err
	}
	files := []file{
		{name: "bin", mode: 0o755, typ: tar.TypeDir},
		{name: "bin/busybox", mode: 0o755, typ: tar.TypeReg, data: data},
		{name: "etc", mode: 0o755, typ: tar.TypeDir},
		{name: "etc/passwd", mode: 0o644, typ: tar.TypeReg,
			data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{name: "etc/group", mode: 0o644, typ: tar.TypeReg, data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{name: "root", mode: 0o700, typ: tar.TypeDir},
		{name: "tmp", mode: 0o1777, typ: tar.TypeDir},
	}
	for _, a := range applets {
		if a == "busybox" || strings.Contains(a, "/") {
			continue
		}
		files = append(files, file{name: filepath.Join("bin", a), mode: 0o777, typ: tar.TypeSymlink, linkname: "busybox"})
	}
	l, diffID, err := layer(files)
	if err != nil {
		return PlatformContent{}, err
	}
	cfg := ocispec.ImageConfig{
		Env: []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
		Cmd: []string{"sh"},
	}
	return platformImage(p, cfg, []Blob{l}, []digest.Digest{diffID})
}

// TinyContent builds a very small synthetic image for the platforms (default linux/amd64 and
// linux/arm64): one layer holding /seed with the name and platform, so distinct names give
// distinct digests. It has no binaries and cannot run anything.
func TinyContent(name string, platforms ...string) (*Content, error) {
	if len(platforms) == 0 {
		platforms = BusyboxPlatforms
	}
	var pcs []PlatformContent
	for _, ps := range platforms {
		p, err := parsePlatform(ps)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(name + "\x00" + ps))
		l, diffID, err := layer([]file{{name: "seed", mode: 0o644, typ: tar.TypeReg,
			data: fmt.Appendf(nil, "%s %s %x\n", name, ps, sum[:8])}})
		if err != nil {
			return nil, err
		}
		pc, err := platformImage(p, ocispec.ImageConfig{Env: []string{"SEED=" + name}}, []Blob{l}, []digest.Digest{diffID})
		if err != nil {
			return nil, err
		}
		pcs = append(pcs, pc)
	}
	return index(pcs)
}
