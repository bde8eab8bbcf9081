package spec

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

// Cache entry types archc accepts in cache_from and cache_to: the ones that work with a
// buildkitd archc reaches (no cloud-service credentials to forward).
const (
	CacheRegistry = "registry" // a cache manifest pushed next to (or apart from) images
	CacheLocal    = "local"    // an OCI layout directory on this machine
	CacheInline   = "inline"   // cache metadata inside the pushed image (cache_to only)
)

// CacheEntry is one cache_from or cache_to entry in buildx's CSV form, parsed:
// "type=registry,ref=host/repo:tag,mode=max" is {Type: "registry", Attrs: {ref, mode}}.
type CacheEntry struct {
	Type  string
	Attrs map[string]string
}

// localPathKey is the attribute holding a local cache's directory: src for an import,
// dest for an export.
func localPathKey(export bool) string {
	if export {
		return "dest"
	}
	return "src"
}

// cacheAttr names the attribute of a direction.
func cacheAttr(export bool) string {
	if export {
		return "cache_to"
	}
	return "cache_from"
}

// ParseCacheEntry parses one entry of cache_from (export false) or cache_to (export true)
// and checks what archc can check without a daemon: a known type, a valid registry
// reference, mode=min|max, a local directory. Other attributes (compression,
// image-manifest, oci-mediatypes, ignore-error, ...) pass through to BuildKit as written.
func ParseCacheEntry(s string, export bool) (CacheEntry, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.TrimLeadingSpace = true
	fields, err := r.Read()
	var pe *csv.ParseError
	switch {
	case errors.Is(err, io.EOF):
		fields = nil // empty: type is missing
	case errors.As(err, &pe):
		return CacheEntry{}, fmt.Errorf("not buildx's CSV form (type=registry,ref=REF): %v", pe.Err)
	case err != nil:
		return CacheEntry{}, fmt.Errorf("not buildx's CSV form (type=registry,ref=REF): %v", err)
	}
	e := CacheEntry{Attrs: map[string]string{}}
	for _, f := range fields {
		k, v, ok := strings.Cut(f, "=")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch {
		case !ok:
			return CacheEntry{}, fmt.Errorf("%q is not KEY=VALUE; write type=registry,ref=REF", SafeLine(f))
		case k == "":
			return CacheEntry{}, fmt.Errorf("%q has no key", SafeLine(f))
		case k == "type":
			if e.Type != "" {
				return CacheEntry{}, errors.New("type is given twice")
			}
			e.Type = v
			continue
		}
		if _, dup := e.Attrs[k]; dup {
			return CacheEntry{}, fmt.Errorf("%s is given twice", SafeLine(k))
		}
		e.Attrs[k] = v
	}
	return e, e.check(export)
}

// check validates a parsed entry for its direction.
func (e CacheEntry) check(export bool) error {
	switch e.Type {
	case "":
		return errors.New("type is missing; write type=registry,ref=REF or type=local," + localPathKey(export) + "=DIR")
	case CacheRegistry:
		ref, ok := e.Attrs["ref"]
		if !ok || ref == "" {
			return errors.New("type=registry needs ref=HOST/REPOSITORY[:TAG]")
		}
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return fmt.Errorf("ref %q: %v", SafeLine(ref), err)
		}
	case CacheLocal:
		key, other := localPathKey(export), localPathKey(!export)
		if _, ok := e.Attrs[other]; ok {
			return fmt.Errorf("%s is for %s; type=local in %s takes %s=DIR", other, cacheAttr(!export), cacheAttr(export), key)
		}
		if e.Attrs[key] == "" {
			return fmt.Errorf("type=local needs %s=DIR in %s", key, cacheAttr(export))
		}
	case CacheInline:
		if !export {
			return errors.New("type=inline is for cache_to; to import inline cache, use type=registry,ref=IMAGE")
		}
	default:
		return fmt.Errorf("type %q is not one of registry, local, inline", SafeLine(e.Type))
	}
	if m, ok := e.Attrs["mode"]; ok && (e.Type == CacheRegistry || e.Type == CacheLocal) {
		if !export {
			return errors.New("mode is for cache_to (what to export); cache_from imports whatever was exported")
		}
		if m != "min" && m != "max" {
			return fmt.Errorf("mode %q is not min or max", SafeLine(m))
		}
	}
	return nil
}

// String is the entry in buildx's CSV form: type first, then the attributes sorted by key,
// quoted where needed, so equal entries print alike.
func (e CacheEntry) String() string {
	fields := []string{"type=" + e.Type}
	for _, k := range slices.Sorted(maps.Keys(e.Attrs)) {
		fields = append(fields, k+"="+e.Attrs[k])
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write(fields) // a bytes.Buffer does not fail
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

// CacheEntryPaths rewrites the local directory of a cache entry (src or dest) with fn, and
// returns the entry in its normalized form; entries of other types only get normalized.
// The plan makes them relative to the spec's directory, the solver absolute again.
func CacheEntryPaths(s string, export bool, fn func(string) string) (string, error) {
	e, err := ParseCacheEntry(s, export)
	if err != nil {
		return "", err
	}
	if e.Type == CacheLocal {
		k := localPathKey(export)
		e.Attrs[k] = fn(e.Attrs[k])
	}
	return e.String(), nil
}

// cacheList evaluates a cache_from or cache_to attribute: each entry parsed, checked and
// normalized, local paths made absolute against the directory of the file that wrote it.
func (e *evaluator) cacheList(a *hcl.Attribute, list []string, export bool) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	out := []string{} // not nil: an empty list set on purpose replaces the default
	for i, s := range list {
		n, err := CacheEntryPaths(s, export, func(p string) string { return e.path(a.Expr.Range(), p) })
		if err != nil {
			diags = append(diags, errorAt(elemRange(a.Expr, i), "Invalid cache entry", "%s[%d]: %v.", a.Name, i, err))
			continue
		}
		out = append(out, n)
	}
	return out, diags
}

// topCache evaluates the top-level cache_from or cache_to: the default of every component
// that does not set its own.
func (e *evaluator) topCache(a *hcl.Attribute, export bool) ([]string, hcl.Diagnostics) {
	if a == nil {
		return nil, nil
	}
	list, diags := e.topList(a)
	if diags.HasErrors() {
		return nil, diags
	}
	out, d := e.cacheList(a, list, export)
	return out, append(diags, d...)
}

// topList evaluates a top-level list(string) attribute, which may use variables and locals
// but no component.
func (e *evaluator) topList(a *hcl.Attribute) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if !e.refsOK(a.Expr, &diags, false) {
		return nil, diags
	}
	var list []string
	diags = append(diags, gohcl.DecodeExpression(a.Expr, e.ctx, &list)...)
	return list, diags
}
