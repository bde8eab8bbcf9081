package spec

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Top-level block types. Their names are part of the spec language's contract.
const (
	blockVariable  = "variable"
	blockLocals    = "locals"
	blockProxy     = "proxy"
	blockRegistry  = "registry"
	blockBuilder   = "builder"
	blockComponent = "component"
	blockSecret    = "secret"
	blockSSH       = "ssh"
)

// rootSchema is everything allowed at the top level of a spec file.
var rootSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "platforms"}, {Name: "build_platforms"}, {Name: "cache_from"}, {Name: "cache_to"}, {Name: attrSourceDateEpoch}, {Name: "sbom_generator"}},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: blockVariable, LabelNames: []string{"name"}},
		{Type: blockLocals},
		{Type: blockProxy},
		{Type: blockRegistry, LabelNames: []string{"host"}},
		{Type: blockBuilder, LabelNames: []string{"name"}},
		{Type: blockComponent, LabelNames: []string{"name"}},
		{Type: blockSecret, LabelNames: []string{"id"}},
		{Type: blockSSH, LabelNames: []string{"id"}},
		{Type: blockAttest},
	},
}

// mergedBlock is one top-level block after merging every file that declares it: attributes
// from later files replace earlier ones, nested blocks accumulate. Each attribute keeps its
// own source range, so diagnostics and relative paths still point at the file that wrote it.
type mergedBlock struct {
	Type     string
	Labels   []string
	DefRange hcl.Range // the first declaration's header
	// LabelRange is the first label's range (the name), or DefRange for unlabeled blocks.
	LabelRange hcl.Range
	Body       *hclsyntax.Body
}

// Name is the block's first label, or "" for unlabeled blocks.
func (b *mergedBlock) Name() string {
	if len(b.Labels) == 0 {
		return ""
	}
	return b.Labels[0]
}

// document is the merge of all spec files: the one place where "later wins" is decided.
type document struct {
	Platforms *hcl.Attribute
	// BuildPlatforms is build_platforms: the platforms `archc lock` pins build stages for.
	BuildPlatforms *hcl.Attribute
	// CacheFrom and CacheTo are the top-level defaults of the components' attributes.
	CacheFrom, CacheTo *hcl.Attribute
	// SBOMGenerator is sbom_generator, the scanner image of attest { sbom = true }.
	SBOMGenerator *hcl.Attribute
	// SourceDateEpoch is the top-level source_date_epoch, the components' default.
	SourceDateEpoch *hcl.Attribute
	blocks          []*mergedBlock // in order of first appearance
	index           map[string]*mergedBlock
}

// Blocks returns the merged blocks of one type, sorted by name.
func (d *document) Blocks(typ string) []*mergedBlock {
	var out []*mergedBlock
	for _, b := range d.blocks {
		if b.Type == typ {
			out = append(out, b)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// mergeBodies merges the parsed files in order. Within one file a block type+labels may
// appear once (locals: each name once); across files they merge attribute by attribute.
func mergeBodies(bodies []*hclsyntax.Body) (*document, hcl.Diagnostics) {
	doc := &document{index: map[string]*mergedBlock{}}
	var diags hcl.Diagnostics
	for _, body := range bodies {
		content, cdiags := body.Content(rootSchema)
		bakeHints(body, cdiags)
		diags = append(diags, cdiags...)
		for name, dst := range map[string]**hcl.Attribute{"platforms": &doc.Platforms, "build_platforms": &doc.BuildPlatforms, "cache_from": &doc.CacheFrom, "cache_to": &doc.CacheTo, attrSourceDateEpoch: &doc.SourceDateEpoch, "sbom_generator": &doc.SBOMGenerator} {
			if a, ok := content.Attributes[name]; ok {
				*dst = a
			}
		}
		seen := map[string]hcl.Range{}   // block key -> first def in this file
		locals := map[string]hcl.Range{} // local name -> first def in this file
		for _, blk := range content.Blocks {
			sb, ok := blk.Body.(*hclsyntax.Body)
			if !ok {
				continue
			}
			if d := checkLabels(blk); d != nil {
				diags = append(diags, d)
				continue
			}
			key := blk.Type + "\x00" + strings.Join(blk.Labels, "\x00")
			if blk.Type == blockLocals {
				diags = append(diags, duplicateLocals(sb, locals)...)
			} else if first, dup := seen[key]; dup {
				diags = append(diags, duplicateBlock(blk, first))
				continue
			}
			seen[key] = blk.DefRange
			doc.add(key, blk, sb)
		}
	}
	return doc, diags
}

// exclusiveAttrs are groups of attributes of which a block sets one. A later file that sets
// one of a group replaces the whole group, so an override file can switch a secret from env
// to file; within one file, setting two stays an error.
var exclusiveAttrs = map[string][][]string{blockSecret: {{"env", "file"}}}

func (d *document) add(key string, blk *hcl.Block, body *hclsyntax.Body) {
	mb, ok := d.index[key]
	if !ok {
		mb = &mergedBlock{
			Type:       blk.Type,
			Labels:     blk.Labels,
			DefRange:   blk.DefRange,
			LabelRange: blk.DefRange,
			Body: &hclsyntax.Body{
				Attributes: hclsyntax.Attributes{},
				SrcRange:   body.SrcRange,
				EndRange:   body.EndRange,
			},
		}
		if len(blk.LabelRanges) > 0 {
			mb.LabelRange = blk.LabelRanges[0]
		}
		d.index[key] = mb
		d.blocks = append(d.blocks, mb)
	}
	for _, group := range exclusiveAttrs[blk.Type] {
		if slices.ContainsFunc(group, func(n string) bool { return body.Attributes[n] != nil }) {
			for _, n := range group {
				delete(mb.Body.Attributes, n)
			}
		}
	}
	for name, attr := range body.Attributes {
		mb.Body.Attributes[name] = attr
	}
	mb.Body.Blocks = append(mb.Body.Blocks, body.Blocks...)
}

// checkLabels rejects names that cannot be referenced (component.NAME, var.NAME) or are empty.
func checkLabels(blk *hcl.Block) *hcl.Diagnostic {
	if len(blk.Labels) == 0 || blk.Type == blockRegistry {
		return nil // registry hosts are checked with their own rules
	}
	name := blk.Labels[0]
	if hclsyntax.ValidIdentifier(name) {
		return nil
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  fmt.Sprintf("Invalid %s name", blk.Type),
		Detail: fmt.Sprintf("%q is not a valid name: use letters, digits, underscores and dashes, "+
			"starting with a letter or underscore.", name),
		Subject: blk.LabelRanges[0].Ptr(),
	}
}

func duplicateBlock(blk *hcl.Block, first hcl.Range) *hcl.Diagnostic {
	what := blk.Type
	if len(blk.Labels) > 0 {
		what = fmt.Sprintf("%s %q", blk.Type, blk.Labels[0])
	}
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Duplicate " + what,
		Detail: fmt.Sprintf("%s is already defined at %s; within one file each block appears once "+
			"(blocks merge only across -f files).", what, first),
		Subject: blk.DefRange.Ptr(),
	}
}

func duplicateLocals(body *hclsyntax.Body, seen map[string]hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	names := make([]string, 0, len(body.Attributes))
	for name := range body.Attributes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		attr := body.Attributes[name]
		if first, dup := seen[name]; dup {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  fmt.Sprintf("Duplicate local %q", name),
				Detail:   fmt.Sprintf("local.%s is already defined at %s.", name, first),
				Subject:  attr.NameRange.Ptr(),
			})
			continue
		}
		seen[name] = attr.NameRange
	}
	return diags
}
