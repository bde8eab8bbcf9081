package solver

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
	spb "github.com/moby/buildkit/sourcepolicy/pb"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// supplyChain is what the plan asks BuildKit to attach to each component's images:
// attestations (provenance, SBOM) and annotations, and the pins of the SBOM scanners.
type supplyChain struct {
	components map[string]componentSupply
}

// componentSupply is one component's attestations and annotations.
type componentSupply struct {
	attest compiler.Attest
	// annotations are Build.Annotations by platform.
	annotations map[string]map[string]string
	// scanner is the pinned SBOM scanner (one of the builds' bases), when attest.SBOM.
	scanner compiler.Base
}

// newSupplyChain reads the plan's builds.
func newSupplyChain(p *compiler.Plan) *supplyChain {
	sc := &supplyChain{components: map[string]componentSupply{}}
	for _, b := range p.Builds {
		c, ok := sc.components[b.Component]
		if !ok {
			c = componentSupply{attest: b.Attest, annotations: map[string]map[string]string{}}
		}
		c.annotations[b.Platform] = b.Annotations
		if b.Attest.SBOM {
			for _, base := range b.Bases {
				if base.Ref == b.Attest.SBOMGenerator && base.Platform == p.BuildPlatform {
					c.scanner = base
				}
			}
		}
		sc.components[b.Component] = c
	}
	return sc
}

// asIndex is true when a component's result must be exported as an index even for one
// platform: attestation manifests and index annotations only exist in an index.
func (sc *supplyChain) asIndex(component string) bool {
	if sc == nil {
		return false
	}
	c := sc.components[component]
	if c.attest.Any() {
		return true
	}
	for _, as := range c.annotations {
		for k := range as {
			if strings.HasPrefix(k, spec.AnnotationIndex) {
				return true
			}
		}
	}
	return false
}

// frontendAttrs are the attest:* attributes BuildKit's controller reads from the solve
// request to run its provenance and SBOM processors on the result of archc's gateway
// callback, and the Dockerfile's name, which the provenance records as its config source.
func (sc *supplyChain) frontendAttrs(job *Job, attrs map[string]string) {
	if sc == nil {
		return
	}
	c := sc.components[job.Component]
	if c.attest.Provenance != "" {
		attrs["attest:provenance"] = "mode=" + c.attest.Provenance
		attrs["filename"] = relName(job.Dockerfile)
	}
	if c.attest.SBOM {
		attrs["attest:sbom"] = "generator=" + c.attest.SBOMGenerator
	}
}

// exportAnnotations adds the annotations of builds to the image and oci exporters'
// attributes (annotation-TYPE[PLATFORM].KEY). With several platforms in one result, each
// manifest annotation names its platform; one platform's result is unqualified.
func (sc *supplyChain) exportAnnotations(job *Job, builds []PlatformBuild, index bool, ex []client.ExportEntry) {
	if sc == nil {
		return
	}
	c := sc.components[job.Component]
	for i := range ex {
		if ex[i].Type != client.ExporterImage && ex[i].Type != client.ExporterOCI {
			continue
		}
		for _, b := range builds {
			as := c.annotations[b.Platform]
			for _, k := range slices.Sorted(maps.Keys(as)) {
				typ, key, _ := strings.Cut(k, ":")
				attr := "annotation-" + typ
				if index && (typ == spec.AnnotationManifest || typ == spec.AnnotationManifestDescriptor) {
					attr += "[" + b.Platform + "]"
				}
				ex[i].Attrs[attr+"."+key] = as[k]
			}
		}
	}
}

// indexAnnotations are the index annotations of a component, for the index archc pushes
// itself when its platforms were solved on different builders.
func (sc *supplyChain) indexAnnotations(component string) map[string]string {
	if sc == nil {
		return nil
	}
	var out map[string]string
	for _, as := range sc.components[component].annotations {
		for k, v := range as {
			if key, ok := strings.CutPrefix(k, spec.AnnotationIndex+":"); ok {
				if out == nil {
					out = map[string]string{}
				}
				out[key] = v
			}
		}
	}
	return out
}

// scannerRules serve the pinned SBOM scanner from archc's OCI store: BuildKit's SBOM
// processor asks for the generator by name (docker-image://REF), then runs the reference
// its resolution returned (NAME@DIGEST); the source policy converts both to the pinned
// manifest in the store, before the rule that denies every docker-image source. The
// scanner runs on the builder's default platform, which must be the one it was pinned for
// (the plan's build platform).
func (sc *supplyChain) scannerRules(job *Job, b *Builder) ([]*spb.Rule, error) {
	if sc == nil || !sc.components[job.Component].attest.SBOM {
		return nil, nil
	}
	c := sc.components[job.Component]
	if c.scanner.Digest == "" {
		return nil, fmt.Errorf("component %s: the SBOM scanner %s has no pin in the plan", job.Component, c.attest.SBOMGenerator)
	}
	if b != nil && len(b.Workers) > 0 {
		if runs := spec.FormatPlatform(b.Workers[0]); runs != c.scanner.Platform {
			return nil, fmt.Errorf("component %s: builder %s runs the SBOM scanner %s on %s, but it is pinned for %s (the plan's build platform); plan with --build-platform %s, or build on a %s builder",
				job.Component, b.Name, c.attest.SBOMGenerator, runs, c.scanner.Platform, runs, c.scanner.Platform)
		}
	}
	named, err := reference.ParseNormalizedNamed(c.scanner.Ref)
	if err != nil {
		return nil, fmt.Errorf("component %s: SBOM scanner %s: %w", job.Component, c.scanner.Ref, err)
	}
	pinned := named.Name() + "@" + c.scanner.Digest.String()
	update := &spb.Update{
		Identifier: compiler.OCILayoutScheme + pinned,
		Attrs:      map[string]string{pb.AttrOCILayoutStoreID: BaseStoreID},
	}
	var rules []*spb.Rule
	for _, ref := range []string{c.scanner.Ref, pinned} {
		rules = append(rules, &spb.Rule{
			Action:   spb.PolicyAction_CONVERT,
			Selector: &spb.Selector{Identifier: compiler.DockerImageScheme + ref, MatchType: spb.MatchType_EXACT},
			Updates:  update,
		})
	}
	return rules, nil
}

// withSupplyChain adds a job's attestations, annotations and scanner to a solve's
// options; index is whether the result is exported as an index.
func (b *Bases) withSupplyChain(job *Job, builds []PlatformBuild, builder *Builder, opt client.SolveOpt) (client.SolveOpt, error) {
	if b == nil {
		return opt, nil
	}
	b.supply.frontendAttrs(job, opt.FrontendAttrs)
	b.supply.exportAnnotations(job, builds, len(builds) > 1 || b.supply.asIndex(job.Component), opt.Exports)
	rules, err := b.supply.scannerRules(job, builder)
	if err != nil || rules == nil {
		return opt, err
	}
	opt.SourcePolicy = &spb.Policy{Rules: append(rules, opt.SourcePolicy.GetRules()...)}
	return opt, nil
}

// asIndex is supplyChain.asIndex for the plan's components (false without a plan: tests).
func (b *Bases) asIndex(component string) bool {
	return b != nil && b.supply.asIndex(component)
}

// indexAnnotations is supplyChain.indexAnnotations for the plan's components (nil without
// a plan: tests).
func (b *Bases) indexAnnotations(component string) map[string]string {
	if b == nil {
		return nil
	}
	return b.supply.indexAnnotations(component)
}
