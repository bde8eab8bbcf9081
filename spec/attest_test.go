package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// attestDir writes a context and the given spec files into a temporary directory and
// returns their paths.
func attestDir(t *testing.T, files ...string) []string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "ctx"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "ctx", "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	var out []string
	for i, body := range files {
		p := filepath.Join(dir, string(rune('a'+i))+".hcl")
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		out = append(out, p)
	}
	return out
}

func TestAttestDecode(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		files []string
		want  Attest
	}{
		{"none", []string{`component "c" { context = "ctx" }`}, Attest{}},
		{"component max", []string{`component "c" {
  context = "ctx"
  attest { provenance = "max" }
}`}, Attest{Provenance: ProvenanceMax}},
		{"true is min", []string{`component "c" {
  context = "ctx"
  attest { provenance = true }
}`}, Attest{Provenance: ProvenanceMin}},
		{"default inherited", []string{`attest {
  provenance = "min"
  sbom = true
}
component "c" { context = "ctx" }`}, Attest{Provenance: ProvenanceMin, SBOM: true, SBOMGenerator: DefaultSBOMGenerator}},
		{"field by field", []string{`attest {
  provenance = "max"
  sbom = true
}
sbom_generator = "127.0.0.1:5000/scan"
component "c" {
  context = "ctx"
  attest { provenance = false }
}`}, Attest{SBOM: true, SBOMGenerator: "127.0.0.1:5000/scan:latest"}},
		{"later file wins per field", []string{`attest { provenance = "max" }
component "c" {
  context = "ctx"
  attest { sbom = true }
}`, `attest { provenance = "min" }
sbom_generator = "scanner:v1"
component "c" {
  attest { sbom = false }
}`}, Attest{Provenance: ProvenanceMin}},
		{"generator from variable", []string{`variable "S" { default = "docker.io/me/scan:2" }
sbom_generator = var.S
component "c" {
  context = "ctx"
  attest { sbom = true }
}`}, Attest{SBOM: true, SBOMGenerator: "docker.io/me/scan:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustLoad(t, LoadOptions{Files: attestDir(t, tt.files...)})
			assert.Equal(t, tt.want, s.Component("c").Attest)
		})
	}
}

func TestAttestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec string
		want []string
	}{
		{"bad mode", `component "c" {
  context = "ctx"
  attest { provenance = "full" }
}`, []string{`a.hcl:3:25: error: Invalid provenance`}},
		{"bad type", `component "c" {
  context = "ctx"
  attest { sbom = "yes" }
}`, []string{`a.hcl:3:19: error: Invalid sbom`}},
		{"unknown attribute", `attest { slsa = 1 }
component "c" { context = "ctx" }`, []string{`a.hcl:1:10: error: Unsupported argument`}},
		{"twice in a file", `component "c" {
  context = "ctx"
  attest { sbom = true }
  attest { sbom = false }
}`, []string{`a.hcl:4:3: error: Duplicate attest block`}},
		{"top-level twice", `attest {}
attest {}
component "c" { context = "ctx" }`, []string{`a.hcl:2:1: error: Duplicate attest`}},
		{"bad generator", `sbom_generator = "http://x/y"
component "c" { context = "ctx" }`, []string{`a.hcl:1:18: error: Invalid sbom_generator`}},
		{"top-level error reported once", `attest { provenance = 3 }
component "a" { context = "ctx" }
component "b" { context = "ctx" }`, []string{`a.hcl:1:23: error: Invalid provenance`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := Load(LoadOptions{Files: attestDir(t, tt.spec)})
			var got []string
			for _, d := range diags {
				got = append(got, diagString(d))
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestAnnotations(t *testing.T) {
	t.Parallel()
	s := mustLoad(t, LoadOptions{Files: attestDir(t, `component "c" {
  context   = "ctx"
  platforms = ["linux/amd64", "linux/arm64"]
  annotations = {
    "index:org.opencontainers.image.source" = "https://example.invalid/repo"
    "org.opencontainers.image.title"        = "c"
    "manifest[linux/aarch64]:arch"          = "arm"
    "index,manifest-descriptor:both"        = "x"
    "index-descriptor:d"                    = "y"
  }
}`)})
	assert.Equal(t, []Annotation{
		{Type: AnnotationIndexDescriptor, Key: "d", Value: "y"},
		{Type: AnnotationIndex, Key: "both", Value: "x"},
		{Type: AnnotationIndex, Key: "org.opencontainers.image.source", Value: "https://example.invalid/repo"},
		{Type: AnnotationManifestDescriptor, Key: "both", Value: "x"},
		{Type: AnnotationManifest, Key: "org.opencontainers.image.title", Value: "c"},
		{Type: AnnotationManifest, Platform: "linux/arm64", Key: "arch", Value: "arm"},
	}, s.Component("c").Annotations, "sorted by String; no prefix is manifest; platform normalized")
	n := s.Normalized().Components[0]
	assert.Equal(t, "arm", n.Annotations["manifest[linux/arm64]:arch"])
}

func TestAnnotationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, detail string
	}{
		{"layer:k", `"layer" is not one of index, manifest`},
		{"index[linux/amd64]:k", "index annotations are not per platform"},
		{"manifest[linux/s390x]:k", `builds linux/amd64, not linux/s390x`},
		{"manifest[linux/amd64:k", "the platform qualifier is written TYPE[OS/ARCH]"},
		{"manifest:", "is not an annotation key"},
		{"manifest:a b", "is not an annotation key"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			_, diags := Load(LoadOptions{Files: attestDir(t, `component "c" {
  context = "ctx"
  annotations = { "`+tt.key+`" = "v" }
}`)})
			require.Len(t, diags, 1)
			assert.Equal(t, 3, diags[0].Subject.Start.Line, "at the entry")
			assert.Contains(t, diags[0].Detail, tt.detail)
		})
	}
	_, diags := Load(LoadOptions{Files: attestDir(t, `component "c" {
  context = "ctx"
  annotations = { "k" = "v", "manifest:k" = "w" }
}`)})
	require.Len(t, diags, 1)
	assert.Equal(t, "Duplicate annotation", diags[0].Summary)
}
