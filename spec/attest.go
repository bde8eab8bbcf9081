package spec

import (
	"fmt"

	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Provenance modes of an attest block, BuildKit's mode= values.
const (
	ProvenanceMin = "min"
	ProvenanceMax = "max"
)

// DefaultSBOMGenerator is the scanner image BuildKit runs for SBOMs when the spec names
// none (sbom_generator): BuildKit's own default. archc pins it in the lock like a base.
const DefaultSBOMGenerator = "docker.io/docker/buildkit-syft-scanner:stable-1"

// blockAttest is the attest block, top-level (the default) and in a component.
const blockAttest = "attest"

// Attest says which attestations BuildKit attaches to a component's images: they are
// pushed in the image index as attestation manifests, one per platform.
type Attest struct {
	// Provenance is the SLSA provenance mode: "" (none), ProvenanceMin or ProvenanceMax.
	Provenance string
	// SBOM runs SBOMGenerator over each platform's result.
	SBOM bool
	// SBOMGenerator is the scanner image (sbom_generator, normalized with its tag), set
	// when SBOM is: archc pins it in the lock and serves it to the builder like a base.
	SBOMGenerator string
}

// topAttest evaluates the top-level attest block and sbom_generator: the components'
// default attestations and the scanner image any of them runs for an SBOM.
func (e *evaluator) topAttest(doc *document) (Attest, string, hcl.Diagnostics) {
	var a Attest
	var diags, d hcl.Diagnostics
	for _, b := range doc.Blocks(blockAttest) { // one block, merged across files
		a, d = e.attestBody(b.Body, a)
		diags = append(diags, d...)
	}
	generator, d := e.sbomGenerator(doc.SBOMGenerator)
	return a, generator, append(diags, d...)
}

// componentAttest fills c.Attest: the top-level default changed by the component's attest
// blocks.
func (e *evaluator) componentAttest(b *mergedBlock, defaults componentDefaults, c *Component) hcl.Diagnostics {
	a, diags := e.attestBlocks(b.Body.Blocks, defaults.Attest)
	if a.SBOM {
		a.SBOMGenerator = defaults.SBOMGenerator
	}
	c.Attest = a
	return diags
}

// Any is true when some attestation is on.
func (a Attest) Any() bool { return a.Provenance != "" || a.SBOM }

// attestSchema is an attest block's body.
var attestSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "provenance"}, {Name: "sbom"}}}

// attestBlocks evaluates attest blocks in order onto base: each attribute a block sets
// replaces base's, one it leaves out is inherited. A component's attest block therefore
// changes the top-level default field by field (attest { sbom = true } keeps the default
// provenance), as bake merges attest entries by type. Several blocks come from several
// files (-f); within one file a block appears once.
func (e *evaluator) attestBlocks(blocks []*hclsyntax.Block, base Attest) (Attest, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	seen := map[string]hcl.Range{}
	for _, blk := range blocks {
		if blk.Type != blockAttest {
			continue
		}
		if first, dup := seen[blk.Range().Filename]; dup {
			diags = append(diags, errorAt(blk.DefRange(), "Duplicate attest block",
				"attest is already defined at %s; within one file a block appears once (blocks merge only across -f files).", first))
			continue
		}
		seen[blk.Range().Filename] = blk.DefRange()
		var d hcl.Diagnostics
		base, d = e.attestBody(blk.Body, base)
		diags = append(diags, d...)
	}
	return base, diags
}

// attestBody applies one attest block's attributes to a.
func (e *evaluator) attestBody(body *hclsyntax.Body, a Attest) (Attest, hcl.Diagnostics) {
	content, diags := body.Content(attestSchema)
	if at, ok := content.Attributes["provenance"]; ok {
		if v, ok := e.attestValue(at, &diags); ok {
			a.Provenance, diags = provenanceMode(v, at, diags)
		}
	}
	if at, ok := content.Attributes["sbom"]; ok {
		if v, ok := e.attestValue(at, &diags); ok {
			if v.Type() != cty.Bool {
				diags = append(diags, errorAt(at.Expr.Range(), "Invalid sbom", "sbom is true or false."))
			} else {
				a.SBOM = v.True()
			}
		}
	}
	return a, diags
}

// attestValue evaluates an attest attribute; ok is false when it failed or is null.
func (e *evaluator) attestValue(at *hcl.Attribute, diags *hcl.Diagnostics) (cty.Value, bool) {
	if !e.refsOK(at.Expr, diags, false) {
		return cty.NilVal, false
	}
	v, d := at.Expr.Value(e.ctx)
	*diags = append(*diags, d...)
	if d.HasErrors() || v.IsNull() || !v.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return v, true
}

// provenanceMode reads provenance: "min", "max", false (none) or true (min, as buildx's
// --provenance=true).
func provenanceMode(v cty.Value, at *hcl.Attribute, diags hcl.Diagnostics) (string, hcl.Diagnostics) {
	switch {
	case v.Type() == cty.Bool && v.True():
		return ProvenanceMin, diags
	case v.Type() == cty.Bool:
		return "", diags
	case v.Type() == cty.String && (v.AsString() == ProvenanceMin || v.AsString() == ProvenanceMax):
		return v.AsString(), diags
	}
	shown := "a " + v.Type().FriendlyName()
	if v.Type() == cty.String {
		shown = fmt.Sprintf("%q", v.AsString())
	}
	return "", append(diags, errorAt(at.Expr.Range(), "Invalid provenance",
		"provenance is \"min\", \"max\" or false, not %s.", shown))
}

// sbomGenerator reads the top-level sbom_generator: an image reference, normalized with
// its tag ("docker.io/library/scanner:latest") as the lock keys bases.
func (e *evaluator) sbomGenerator(a *hcl.Attribute) (string, hcl.Diagnostics) {
	if a == nil {
		return DefaultSBOMGenerator, nil
	}
	var diags hcl.Diagnostics
	v, ok := e.attestValue(a, &diags)
	if !ok {
		return DefaultSBOMGenerator, diags
	}
	if v.Type() != cty.String || v.AsString() == "" {
		return DefaultSBOMGenerator, append(diags, errorAt(a.Expr.Range(), "Invalid sbom_generator",
			"sbom_generator is the scanner image's reference, e.g. \"docker/buildkit-syft-scanner:stable-1\"."))
	}
	named, err := reference.ParseNormalizedNamed(v.AsString())
	if err != nil {
		return DefaultSBOMGenerator, append(diags, errorAt(a.Expr.Range(), "Invalid sbom_generator",
			"%q: %v.", v.AsString(), err))
	}
	return reference.TagNameOnly(named).String(), diags
}
