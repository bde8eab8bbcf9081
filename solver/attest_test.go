package solver

import (
	"testing"

	"github.com/moby/buildkit/client"
	spb "github.com/moby/buildkit/sourcepolicy/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
)

func attestPlan() *compiler.Plan {
	gen := "docker.io/acme/scan:v1"
	att := compiler.Attest{Provenance: "max", SBOM: true, SBOMGenerator: gen}
	return &compiler.Plan{BuildPlatform: "linux/amd64", Builds: []compiler.Build{
		{Component: "app", Platform: "linux/amd64", Attest: att, Annotations: map[string]string{"index:src": "s", "manifest:t": "x"},
			Bases: []compiler.Base{{Ref: gen, Digest: "sha256:aaaa", Platform: "linux/amd64"}}},
		{Component: "app", Platform: "linux/arm64", Attest: att, Annotations: map[string]string{"index:src": "s", "manifest:t": "y"},
			Bases: []compiler.Base{{Ref: gen, Digest: "sha256:aaaa", Platform: "linux/amd64"}}},
		{Component: "plain", Platform: "linux/amd64"},
	}}
}

func TestSupplyChainSolveOpt(t *testing.T) {
	t.Parallel()
	b := &Bases{supply: newSupplyChain(attestPlan())}
	job := &Job{Component: "app", Dockerfile: "app/Dockerfile"}
	builds := []PlatformBuild{{Platform: "linux/amd64"}, {Platform: "linux/arm64"}}
	opt := b.solveOpt(client.SolveOpt{FrontendAttrs: map[string]string{}, Exports: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{}}}})
	opt, err := b.withSupplyChain(job, builds, &Builder{Name: "local", Workers: []ocispecs.Platform{{OS: "linux", Architecture: "amd64"}}}, opt)
	require.NoError(t, err)
	assert.Equal(t, "mode=max", opt.FrontendAttrs["attest:provenance"])
	assert.Equal(t, "generator=docker.io/acme/scan:v1", opt.FrontendAttrs["attest:sbom"])
	assert.Equal(t, map[string]string{"annotation-index.src": "s", "annotation-manifest[linux/amd64].t": "x", "annotation-manifest[linux/arm64].t": "y"},
		opt.Exports[0].Attrs)
	rules := opt.SourcePolicy.GetRules()
	require.Len(t, rules, 3, "two conversions of the scanner, then the deny-all")
	for i, sel := range []string{"docker-image://docker.io/acme/scan:v1", "docker-image://docker.io/acme/scan@sha256:aaaa"} {
		assert.Equal(t, spb.PolicyAction_CONVERT, rules[i].Action)
		assert.Equal(t, sel, rules[i].Selector.Identifier)
		assert.Equal(t, "oci-layout://docker.io/acme/scan@sha256:aaaa", rules[i].Updates.Identifier)
		assert.Equal(t, BaseStoreID, rules[i].Updates.Attrs["oci.store"])
	}
	assert.Equal(t, spb.PolicyAction_DENY, rules[2].Action)
	assert.Len(t, onlyStoredBases.Rules, 1, "the shared deny policy is not changed")
	assert.True(t, b.asIndex("app"))
	assert.False(t, b.asIndex("plain"))
	assert.Equal(t, map[string]string{"src": "s"}, b.supply.indexAnnotations("app"))

	_, err = b.withSupplyChain(job, builds[:1], &Builder{Name: "arm", Workers: []ocispecs.Platform{{OS: "linux", Architecture: "arm64"}}}, b.solveOpt(client.SolveOpt{FrontendAttrs: map[string]string{}}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "runs the SBOM scanner docker.io/acme/scan:v1 on linux/arm64, but it is pinned for linux/amd64")

	plain, err := b.withSupplyChain(&Job{Component: "plain"}, builds[:1], nil, b.solveOpt(client.SolveOpt{FrontendAttrs: map[string]string{}}))
	require.NoError(t, err)
	assert.Empty(t, plain.FrontendAttrs)
	assert.Same(t, onlyStoredBases, plain.SourcePolicy)
}
