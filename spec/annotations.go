package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/containerd/platforms"
	"github.com/hashicorp/hcl/v2"
)

// Annotation targets, bake's prefixes (and BuildKit's annotation-TYPE exporter options).
const (
	AnnotationIndex              = "index"
	AnnotationIndexDescriptor    = "index-descriptor"
	AnnotationManifest           = "manifest"
	AnnotationManifestDescriptor = "manifest-descriptor"
)

// Annotation is one OCI annotation a component puts on its images.
type Annotation struct {
	// Type is where it goes: one of the Annotation* targets.
	Type string
	// Platform limits a manifest or manifest-descriptor annotation to one platform's
	// manifest (normalized); "" means every platform.
	Platform string
	Key      string
	Value    string
}

// String is the annotation's key as the spec writes it, normalized: "TYPE[PLATFORM]:KEY".
func (a Annotation) String() string {
	p := ""
	if a.Platform != "" {
		p = "[" + a.Platform + "]"
	}
	return a.Type + p + ":" + a.Key
}

// ParseAnnotationKey reads a key of a component's annotations as bake does:
// "[TYPE[,TYPE...][PLATFORM]:]KEY", TYPE one of index, manifest, manifest-descriptor,
// index-descriptor, no prefix meaning manifest. A platform qualifier is for manifest types
// only (an index is not per platform). It returns one Annotation per type, without Value.
func ParseAnnotationKey(s string) ([]Annotation, error) {
	types, key := AnnotationManifest, s
	if t, k, ok := strings.Cut(s, ":"); ok {
		types, key = t, k
	}
	if key == "" || strings.ContainsAny(key, " \t\r\n=") {
		return nil, fmt.Errorf("%q is not an annotation key (no spaces or '=')", key)
	}
	platform := ""
	if t, p, ok := strings.Cut(types, "["); ok {
		if !strings.HasSuffix(p, "]") || p == "]" {
			return nil, fmt.Errorf("%q: the platform qualifier is written TYPE[OS/ARCH]", types)
		}
		sp, err := platforms.Parse(strings.TrimSuffix(p, "]"))
		if err != nil {
			return nil, fmt.Errorf("platform qualifier: %w", err)
		}
		types, platform = t, FormatPlatform(sp)
	}
	var out []Annotation
	for _, t := range strings.Split(types, ",") {
		switch t {
		case AnnotationManifest, AnnotationManifestDescriptor:
		case AnnotationIndex, AnnotationIndexDescriptor:
			if platform != "" {
				return nil, fmt.Errorf("%s annotations are not per platform; drop [%s]", t, platform)
			}
		default:
			return nil, fmt.Errorf("%q is not one of index, manifest, manifest-descriptor, index-descriptor (a key with ':' needs one of them as prefix)", t)
		}
		out = append(out, Annotation{Type: t, Platform: platform, Key: key})
	}
	return out, nil
}

// componentAnnotations checks annotations: valid keys, platform qualifiers among the
// component's platforms, each target:key once. They are sorted by String.
func componentAnnotations(b *mergedBlock, raw map[string]string, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	set := map[string]Annotation{}
	for _, k := range slices.Sorted(maps.Keys(raw)) {
		rng := keyRange(attr(b, "annotations").Expr, k)
		as, err := ParseAnnotationKey(k)
		if err != nil {
			diags = append(diags, errorAt(rng, "Invalid annotation", "annotations[%q]: %v.", k, err))
			continue
		}
		for _, a := range as {
			if a.Platform != "" && !slices.Contains(c.Platforms, a.Platform) {
				diags = append(diags, errorAt(rng, "Annotation for a platform not built",
					"annotations[%q]: component %q builds %s, not %s.", k, c.Name, strings.Join(c.Platforms, ", "), a.Platform))
				continue
			}
			if _, dup := set[a.String()]; dup {
				diags = append(diags, errorAt(rng, "Duplicate annotation", "annotations sets %s more than once.", a))
				continue
			}
			a.Value = raw[k]
			set[a.String()] = a
		}
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		c.Annotations = append(c.Annotations, set[k])
	}
	return diags
}
