package registry

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	digest "github.com/opencontainers/go-digest"
	"github.com/zclconf/go-cty/cty"
)

// LockFileName is the lock file's name, next to the spec.
const LockFileName = "archbuild.lock.hcl"

// Lock is the content of archbuild.lock.hcl: one pin per base image reference.
type Lock struct {
	// Images are sorted by Ref.
	Images []Image
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

var (
	lockSchema  = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "image", LabelNames: []string{"ref"}}}}
	imageSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "digest", Required: true}, {Name: "host", Required: true}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "platform", LabelNames: []string{"platform"}}},
	}
	platformSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "manifest", Required: true}, {Name: "config", Required: true}}}
)

// ReadLock reads a lock file. A missing file is an empty Lock, not an error.
func ReadLock(path string) (*Lock, error) {
	src, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return &Lock{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	return ParseLock(src, path)
}

// ParseLock parses the bytes of a lock file; filename is used in diagnostics.
func ParseLock(src []byte, filename string) (*Lock, error) {
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	content, diags := f.Body.Content(lockSchema)
	if diags.HasErrors() {
		return nil, diagError(diags)
	}
	l := &Lock{}
	for _, blk := range content.Blocks {
		im, err := parseImage(blk)
		if err != nil {
			return nil, err
		}
		l.Set(im)
	}
	return l, nil
}

func parseImage(blk *hcl.Block) (Image, error) {
	im := Image{Ref: blk.Labels[0]}
	hint := fmt.Sprintf(" (hint: run archc lock --update --image %s)", im.Ref)
	c, diags := blk.Body.Content(imageSchema)
	if diags.HasErrors() {
		return im, diagError(diags)
	}
	var dg string
	if err := stringAttrs(c.Attributes, map[string]*string{"digest": &dg, "host": &im.Host}); err != nil {
		return im, err
	}
	var err error
	if im.Digest, err = parseDigest(dg); err != nil {
		return im, fmt.Errorf("%s: image %q: %w%s", blk.DefRange, im.Ref, err, hint)
	}
	for _, pb := range c.Blocks {
		pc, diags := pb.Body.Content(platformSchema)
		if diags.HasErrors() {
			return im, diagError(diags)
		}
		var man, cfg string
		if err := stringAttrs(pc.Attributes, map[string]*string{"manifest": &man, "config": &cfg}); err != nil {
			return im, err
		}
		p := PlatformImage{Platform: pb.Labels[0]}
		if p.Manifest, err = parseDigest(man); err == nil {
			p.Config, err = parseDigest(cfg)
		}
		if err != nil {
			return im, fmt.Errorf("%s: image %q platform %q: %w%s", pb.DefRange, im.Ref, p.Platform, err, hint)
		}
		im.Platforms = append(im.Platforms, p)
	}
	return im, nil
}

// stringAttrs evaluates literal string attributes into dst.
func stringAttrs(attrs hcl.Attributes, dst map[string]*string) error {
	for name, p := range dst {
		a, ok := attrs[name]
		if !ok {
			continue
		}
		v, diags := a.Expr.Value(nil)
		if diags.HasErrors() {
			return diagError(diags)
		}
		if v.Type() != cty.String || v.IsNull() {
			return fmt.Errorf("%s: %s must be a string", a.Range, name)
		}
		*p = v.AsString()
	}
	return nil
}

func parseDigest(s string) (digest.Digest, error) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", fmt.Errorf("invalid digest %q: %w", s, err)
	}
	return d, nil
}

func diagError(diags hcl.Diagnostics) error {
	return fmt.Errorf("parse lock: %s", diags.Error())
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

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}
