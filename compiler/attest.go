package compiler

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/buildkit/client/llb/sourceresolver"

	"github.com/archc-dev/archc/spec"
)

// attest fills a build's attestations and annotations. With an SBOM, the scanner image is
// resolved like a base, at the build platform, where BuildKit runs it on a builder of this
// machine's platform: it is recorded in the build's Bases, so the lock pins it, --locked
// checks it and apply serves it from archc's content cache like any base.
func (c *compilation) attest(ctx context.Context, comp *spec.Component, b *Build, resolver *metaResolver) error {
	b.Attest = Attest(comp.Attest)
	b.Annotations = buildAnnotations(comp.Annotations, b.Platform)
	if !comp.Attest.SBOM {
		return nil
	}
	p := c.opt.buildPlatform
	opt := sourceresolver.Opt{ImageOpt: &sourceresolver.ResolveImageOpt{Platform: &p}}
	if _, _, _, err := resolver.ResolveImageConfig(ctx, comp.Attest.SBOMGenerator, opt); err != nil {
		return fmt.Errorf("component %s: the SBOM scanner (sbom_generator): %w", comp.Name, err)
	}
	return nil
}

// buildAnnotations are the annotations of a component that apply to its build for
// platform, keyed "TYPE:KEY": a manifest annotation qualified with another platform is
// left out, one qualified with this platform loses the qualifier (this build is that
// platform). The solver qualifies them again when it exports several platforms at once.
func buildAnnotations(as []spec.Annotation, platform string) map[string]string {
	var out map[string]string
	for _, a := range as {
		if a.Platform != "" && a.Platform != platform {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		// A qualified annotation is more specific than an unqualified one of the same key.
		k := a.Type + ":" + a.Key
		if _, dup := out[k]; dup && a.Platform == "" {
			continue
		}
		out[k] = a.Value
	}
	return out
}

// Attest is a build's attestations (spec.Attest, as the plan records them).
type Attest struct {
	// Provenance is the SLSA provenance mode: "" (none), "min" or "max".
	Provenance string
	// SBOM asks for an SBOM made by the scanner image SBOMGenerator (a normalized
	// reference; its pin is among the build's Bases).
	SBOM          bool
	SBOMGenerator string
}

// Any is true when some attestation is on.
func (a Attest) Any() bool { return a.Provenance != "" || a.SBOM }

// attestText is the plan's attest line: "provenance max, sbom by REF", or "" for none.
func attestText(a Attest) string {
	var parts []string
	if a.Provenance != "" {
		parts = append(parts, "provenance "+a.Provenance)
	}
	if a.SBOM {
		parts = append(parts, "sbom by "+a.SBOMGenerator)
	}
	return strings.Join(parts, ", ")
}

// JSONAttest is a build's attest settings in the JSON plan.
type JSONAttest struct {
	// Provenance is "min" or "max"; absent for none.
	Provenance string `json:"provenance,omitempty"`
	SBOM       bool   `json:"sbom,omitempty"`
	// SBOMGenerator is the scanner image; its pin is among the build's bases.
	SBOMGenerator string `json:"sbom_generator,omitempty"`
}

func jsonAttest(a Attest) *JSONAttest {
	if a == (Attest{}) {
		return nil
	}
	return &JSONAttest{Provenance: a.Provenance, SBOM: a.SBOM, SBOMGenerator: a.SBOMGenerator}
}
