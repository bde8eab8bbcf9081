package registry

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"

	"github.com/archc-dev/archc/internal/atomicfile"
)

// LockFileName is the lock file's name, next to the spec.
const LockFileName = "archbuild.lock.hcl"

// Lock is the content of archbuild.lock.hcl: one pin per base image reference.
type Lock struct {
	// Images are sorted by Ref.
	Images []Image

	// at locates the pins in the file ParseLock read them from, for VerifyLock's errors.
	at lockRanges
}

// Image pins one reference.
type Image struct {
	// Ref is the normalized reference as written in a FROM, with tag or digest:
	// "docker.io/library/alpine:3.20".
	Ref string
	// Digest is the digest the tag pointed to: an image index (multi-platform) or, for a
	// single-platform image, its manifest.
	Digest digest.Digest
	// Host is the host that served it ("127.0.0.1:5000", "registry-1.docker.io"): host[:port]
	// only, never a scheme, path or credentials.
	Host string
	// Platforms are sorted by Platform.
	Platforms []PlatformImage
}

// PlatformImage is one platform's manifest within a pinned image.
type PlatformImage struct {
	// Platform is normalized "os/arch[/variant]".
	Platform string
	// Manifest is the platform's image manifest digest: what FROM is rewritten to.
	Manifest digest.Digest
	// Config is the image config digest (its content is in the Cache).
	Config digest.Digest
}

// Find returns the pin for ref (normalized first: "alpine:3.20" finds
// "docker.io/library/alpine:3.20"), or nil.
func (l *Lock) Find(ref string) *Image {
	if l == nil {
		return nil
	}
	n, err := NormalizeRef(ref)
	if err != nil {
		return nil
	}
	i := sort.Search(len(l.Images), func(i int) bool { return l.Images[i].Ref >= n })
	if i < len(l.Images) && l.Images[i].Ref == n {
		return &l.Images[i]
	}
	return nil
}

// Platform returns the entry for a normalized platform, or nil.
func (im *Image) Platform(platform string) *PlatformImage {
	for i := range im.Platforms {
		if im.Platforms[i].Platform == platform {
			return &im.Platforms[i]
		}
	}
	return nil
}

// Pinned returns "name@manifest" for platform, the reference FROM is rewritten to, or ""
// when the platform is not locked.
func (im *Image) Pinned(platform string) string {
	p := im.Platform(platform)
	if p == nil {
		return ""
	}
	named, err := reference.ParseNormalizedNamed(im.Ref)
	if err != nil {
		return ""
	}
	return named.Name() + "@" + p.Manifest.String()
}

// Set adds or replaces the pin for im.Ref, keeping Images sorted.
func (l *Lock) Set(im Image) {
	sort.Slice(im.Platforms, func(i, j int) bool { return im.Platforms[i].Platform < im.Platforms[j].Platform })
	i := sort.Search(len(l.Images), func(i int) bool { return l.Images[i].Ref >= im.Ref })
	if i < len(l.Images) && l.Images[i].Ref == im.Ref {
		l.Images[i] = im
		return
	}
	l.Images = append(l.Images, Image{})
	copy(l.Images[i+1:], l.Images[i:])
	l.Images[i] = im
}

// NormalizeRef returns ref in its full form with a default "latest" tag:
// "alpine" → "docker.io/library/alpine:latest". A digest-only reference stays digest-only.
func NormalizeRef(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("parse image reference %q: %w", ref, err)
	}
	return reference.TagNameOnly(named).String(), nil
}

// Bytes renders the lock file: a header comment, one image block per reference, sorted,
// with no timestamps, so the same pins give the same bytes.
func (l *Lock) Bytes() []byte {
	var b bytes.Buffer
	b.WriteString("# archbuild.lock.hcl: base image pins, written by `archc lock`. Commit it; do not edit.\n")
	b.WriteString("# Move a pin with `archc lock --update --image REF`.\n")
	images := append([]Image(nil), l.Images...)
	sort.Slice(images, func(i, j int) bool { return images[i].Ref < images[j].Ref })
	for _, im := range images {
		fmt.Fprintf(&b, "\nimage %s {\n", hclQuote(im.Ref))
		fmt.Fprintf(&b, "  digest = %s\n", hclQuote(im.Digest.String()))
		fmt.Fprintf(&b, "  host   = %s\n", hclQuote(im.Host))
		ps := append([]PlatformImage(nil), im.Platforms...)
		sort.Slice(ps, func(i, j int) bool { return ps[i].Platform < ps[j].Platform })
		for _, p := range ps {
			fmt.Fprintf(&b, "\n  platform %s {\n", hclQuote(p.Platform))
			fmt.Fprintf(&b, "    manifest = %s\n", hclQuote(p.Manifest.String()))
			fmt.Fprintf(&b, "    config   = %s\n", hclQuote(p.Config.String()))
			b.WriteString("  }\n")
		}
		b.WriteString("}\n")
	}
	return b.Bytes()
}

// hclQuote writes s as an HCL string literal (no interpolation).
func hclQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// WriteLock writes l to path atomically: a temporary file in the same directory, then a
// rename, so a failed or interrupted run leaves the previous lock untouched.
func WriteLock(path string, l *Lock) error {
	return writeFileAtomic(path, l.Bytes(), 0o644)
}

// writeFileAtomic is atomicfile.WriteFile, its error naming the file.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := atomicfile.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
