package registry

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	digest "github.com/opencontainers/go-digest"
	"github.com/zclconf/go-cty/cty"
)

var (
	lockSchema  = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "image", LabelNames: []string{"ref"}}}}
	imageSchema = &hcl.BodySchema{
		Attributes: []hcl.AttributeSchema{{Name: "digest", Required: true}, {Name: "host", Required: true}},
		Blocks:     []hcl.BlockHeaderSchema{{Type: "platform", LabelNames: []string{"platform"}}},
	}
	platformSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "manifest", Required: true}, {Name: "config", Required: true}}}
)

// LockError is a lock file that does not parse. It prints like a spec problem
// (archbuild.lock.hcl:LINE:COL: error: summary, with the source line), every problem at
// once; Hint says how to get a working lock back.
type LockError struct {
	// Diags are the problems, each with its range in the lock file.
	Diags hcl.Diagnostics
	// Partial holds the image blocks that parsed; nil when the file is not valid HCL.
	Partial *Lock
	// Broken are the references of the image blocks that did not parse, sorted.
	Broken []string
}

func (e *LockError) Error() string {
	var b strings.Builder
	_ = spec.WriteDiagnostics(&b, e.Diags, false) // a strings.Builder does not fail
	return strings.TrimRight(b.String(), "\n")
}

// Hint says how to get a working lock back: the lock is generated, so the fix is to let
// archc write it again rather than to edit it.
func (e *LockError) Hint() string {
	h := "the lock is written by archc lock; after a merge conflict, delete the broken image blocks (or the file) and run archc lock"
	if refs := e.Repinnable(); refs != nil {
		return h + ", or update just those pins: " + strings.Join(refs, ", ")
	}
	return h + ", or update every pin"
}

// Repinnable are the broken references when each can be updated alone (the rest of the
// lock parsed and each is a normalized reference); nil when only updating every pin helps.
func (e *LockError) Repinnable() []string {
	if e.Partial == nil || len(e.Broken) == 0 {
		return nil
	}
	for _, ref := range e.Broken {
		if n, err := NormalizeRef(ref); err != nil || n != ref {
			return nil
		}
	}
	return e.Broken
}

// ReadLock reads a lock file. A missing file is an empty Lock, not an error. Problems
// name the file relative to the working directory, as spec problems do.
func ReadLock(path string) (*Lock, error) {
	name := displayPath(path)
	src, err := spec.ReadSourceFile(path) // bounded: a lock is text of at most spec.MaxSourceSize
	if errors.Is(err, fs.ErrNotExist) {
		return &Lock{}, nil
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return ParseLock(src, name)
}

// displayPath is path relative to the working directory when it can be, so messages carry
// no absolute paths and the diagnostics printer finds the file for its snippets.
func displayPath(path string) string {
	if !filepath.IsAbs(path) {
		return path
	}
	wd, err := os.Getwd()
	if err != nil {
		return filepath.Base(path)
	}
	rel, err := filepath.Rel(wd, path)
	if err != nil {
		return filepath.Base(path)
	}
	return rel
}

// ParseLock parses the bytes of a lock file; filename is used in diagnostics. A problem
// is a *LockError carrying every problem and the pins that did parse.
func ParseLock(src []byte, filename string) (*Lock, error) {
	// Binary data, an oversized file or deep nesting would hang or crash the HCL parser.
	if diags := spec.CheckSource(filename, src); diags.HasErrors() {
		return nil, &LockError{Diags: diags}
	}
	f, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, &LockError{Diags: diags}
	}
	content, diags := f.Body.Content(lockSchema)
	if diags.HasErrors() {
		return nil, &LockError{Diags: diags}
	}
	l := &Lock{}
	var all hcl.Diagnostics
	broken := map[string]bool{}
	seen := map[string]*hcl.Range{}
	for _, blk := range content.Blocks {
		ref := blk.Labels[0]
		if prev := seen[ref]; prev != nil {
			all = append(all, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate image block",
				Detail: fmt.Sprintf("image %q is already pinned at line %d.", ref, prev.Start.Line), Subject: blk.DefRange.Ptr()})
			broken[ref] = true
			continue
		}
		seen[ref] = blk.DefRange.Ptr()
		im, at, diags := parseImage(blk)
		if diags.HasErrors() {
			all = append(all, diags...)
			broken[ref] = true
			continue
		}
		l.Set(im)
		l.locate(at)
	}
	if len(all) == 0 {
		return l, nil
	}
	e := &LockError{Diags: all}
	for ref := range broken {
		l.remove(ref) // a duplicate: neither copy is trusted
		e.Broken = append(e.Broken, ref)
	}
	sort.Strings(e.Broken)
	e.Partial = l
	return nil, e
}

// remove drops the pin for the exact reference ref.
func (l *Lock) remove(ref string) {
	for i := range l.Images {
		if l.Images[i].Ref == ref {
			l.Images = append(l.Images[:i], l.Images[i+1:]...)
			return
		}
	}
}

// parseImage decodes an image block, and where it writes each pin.
func parseImage(blk *hcl.Block) (Image, lockRanges, hcl.Diagnostics) {
	im := Image{Ref: blk.Labels[0]}
	c, diags := blk.Body.Content(imageSchema)
	at := lockRanges{}
	at.set(im.Ref, "", blk.DefRange, c.Attributes)
	if n, err := NormalizeRef(im.Ref); err != nil || n != im.Ref {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid image reference",
			Detail:  fmt.Sprintf("%q is not a normalized image reference such as \"docker.io/library/alpine:3.20\".", im.Ref),
			Subject: blk.LabelRanges[0].Ptr()})
	}
	var dg string
	set, sdiags := stringAttrs(c.Attributes, map[string]*string{"digest": &dg, "host": &im.Host})
	diags = append(diags, sdiags...)
	if set["digest"] {
		im.Digest, diags = parseDigest(dg, c.Attributes["digest"], diags)
	}
	if a := c.Attributes["host"]; set["host"] && !validLockHost(im.Host) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid host",
			Detail: fmt.Sprintf("host is the host[:port] that served the image, not %q.", im.Host), Subject: a.Expr.Range().Ptr()})
	}
	seen := map[string]bool{}
	for _, pb := range c.Blocks {
		p, pdiags := parsePlatform(pb, im.Ref, at)
		diags = append(diags, pdiags...)
		if seen[p.Platform] {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate platform block",
				Detail: fmt.Sprintf("platform %q appears twice in image %q.", p.Platform, im.Ref), Subject: pb.DefRange.Ptr()})
		}
		seen[p.Platform] = true
		im.Platforms = append(im.Platforms, p)
	}
	return im, at, diags
}

// parsePlatform decodes a platform block of image ref, recording its ranges in at.
func parsePlatform(pb *hcl.Block, ref string, at lockRanges) (PlatformImage, hcl.Diagnostics) {
	p := PlatformImage{Platform: pb.Labels[0]}
	pc, diags := pb.Body.Content(platformSchema)
	at.set(ref, p.Platform, pb.LabelRanges[0], pc.Attributes)
	if sp, err := platforms.Parse(p.Platform); err != nil || spec.FormatPlatform(sp) != p.Platform {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid platform",
			Detail:  fmt.Sprintf("%q is not a normalized platform such as \"linux/arm64\".", p.Platform),
			Subject: pb.LabelRanges[0].Ptr()})
	}
	var man, cfg string
	set, sdiags := stringAttrs(pc.Attributes, map[string]*string{"manifest": &man, "config": &cfg})
	diags = append(diags, sdiags...)
	if set["manifest"] {
		p.Manifest, diags = parseDigest(man, pc.Attributes["manifest"], diags)
	}
	if set["config"] {
		p.Config, diags = parseDigest(cfg, pc.Attributes["config"], diags)
	}
	return p, diags
}

// validLockHost accepts what the resolver writes: host[:port], no scheme, path or user.
func validLockHost(h string) bool {
	if h == "" {
		return false
	}
	for _, r := range h {
		if r <= ' ' || r >= 0x7f || strings.ContainsRune("/@?#\\\"%$", r) {
			return false
		}
	}
	return true
}

// stringAttrs evaluates literal string attributes into dst and says which it set.
func stringAttrs(attrs hcl.Attributes, dst map[string]*string) (map[string]bool, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	set := map[string]bool{}
	names := make([]string, 0, len(dst))
	for name := range dst {
		names = append(names, name)
	}
	sort.Strings(names) // diagnostics in a stable order
	for _, name := range names {
		a, ok := attrs[name]
		if !ok {
			continue
		}
		v, vdiags := a.Expr.Value(nil)
		if vdiags.HasErrors() {
			diags = append(diags, vdiags...)
			continue
		}
		if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid value",
				Detail: name + " must be a string.", Subject: a.Expr.Range().Ptr()})
			continue
		}
		*dst[name] = v.AsString()
		set[name] = true
	}
	return set, diags
}

func parseDigest(s string, a *hcl.Attribute, diags hcl.Diagnostics) (digest.Digest, hcl.Diagnostics) {
	d, err := digest.Parse(s)
	if err != nil {
		return "", append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid digest",
			Detail: fmt.Sprintf("%s %q: %v.", a.Name, s, err), Subject: a.Expr.Range().Ptr()})
	}
	return d, diags
}
