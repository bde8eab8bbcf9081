package compiler

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/archc-dev/archc/spec"
)

func TestBuildAnnotations(t *testing.T) {
	t.Parallel()
	as := []spec.Annotation{
		{Type: spec.AnnotationIndex, Key: "src", Value: "s"},
		{Type: spec.AnnotationManifest, Key: "title", Value: "all"},
		{Type: spec.AnnotationManifest, Platform: "linux/arm64", Key: "title", Value: "arm"},
		{Type: spec.AnnotationManifestDescriptor, Platform: "linux/amd64", Key: "d", Value: "amd"},
	}
	assert.Equal(t, map[string]string{"index:src": "s", "manifest:title": "arm"}, buildAnnotations(as, "linux/arm64"),
		"the platform's own value wins; another platform's is left out")
	assert.Equal(t, map[string]string{"index:src": "s", "manifest:title": "all", "manifest-descriptor:d": "amd"}, buildAnnotations(as, "linux/amd64"))
	assert.Nil(t, buildAnnotations(nil, "linux/amd64"))
}

func TestAttestText(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "", attestText(Attest{}))
	assert.Equal(t, "provenance min", attestText(Attest{Provenance: "min"}))
	assert.Equal(t, "provenance max, sbom by docker.io/a/s:1", attestText(Attest{Provenance: "max", SBOM: true, SBOMGenerator: "docker.io/a/s:1"}))
	assert.Nil(t, jsonAttest(Attest{}), "absent from the JSON plan when off")
}
