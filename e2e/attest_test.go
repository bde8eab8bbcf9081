package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scannerScript is a minimal SBOM generator, as BuildKit's SBOM processor runs one: it
// reads the image's root at $BUILDKIT_SCAN_SOURCE and writes an in-toto statement with an
// SPDX predicate into $BUILDKIT_SCAN_DESTINATION.
const scannerScript = `#!/bin/sh
set -e
files=$(ls "$BUILDKIT_SCAN_SOURCE" | tr '\n' ' ')
cat > "$BUILDKIT_SCAN_DESTINATION/sbom.spdx.json" <<EOF
{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],
 "predicate":{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"archc-e2e-scan","comment":"scanned: $files"}}
EOF
`

// attestSpec builds app for two platforms with provenance, an SBOM by the scanner image
// SCANNER and annotations of each kind.
const attestSpec = `
registry "docker.io" {
  mirrors = ["%[1]s"]
}
registry "%[2]s" {
  http = true
}
sbom_generator = "%[3]s"
attest { provenance = "max" }

component "app" {
  context   = "./app"
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["%[2]s/attest/app:v1"]
  attest { sbom = true }
  annotations = {
    "index:org.opencontainers.image.source"  = "https://example.invalid/app"
    "org.opencontainers.image.title"         = "app"
    "manifest[linux/arm64]:com.example.arch" = "arm64"
  }
}
`

// inToto is the part of an in-toto statement the test reads.
type inToto struct {
	PredicateType string          `json:"predicateType"`
	Predicate     json.RawMessage `json:"predicate"`
}

func testAttestations(t *testing.T, e *env, reg registryClient) {
	// The scanner is built by archc and pushed to the docker.io mirror as docker.io/acme/scanner.
	scan := t.TempDir()
	write(t, scan, map[string]string{
		"archbuild.hcl": fmt.Sprintf(`registry "docker.io" {
  mirrors = ["%s"]
}
registry "%s" {
  http = true
}
component "scanner" {
  context   = "."
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["%s/acme/scanner:v1"]
}
`, e.mirror.URL, e.mirror.Host, e.mirror.Host),
		"Dockerfile": "FROM busybox\nCOPY scan.sh /scan.sh\nENTRYPOINT [\"/bin/sh\", \"/scan.sh\"]\n",
		"scan.sh":    scannerScript,
	})
	r := e.run(t, scan, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)

	dir := t.TempDir()
	write(t, dir, map[string]string{
		"archbuild.hcl":  fmt.Sprintf(attestSpec, e.mirror.URL, e.push.Host, "acme/scanner:v1"),
		"app/Dockerfile": "FROM busybox\nRUN echo attested > /attested\n",
	})
	t.Run("plan shows attestations and annotations", func(t *testing.T) {
		r := e.run(t, dir, "plan")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "provenance max, sbom by docker.io/acme/scanner:v1")
		assert.Contains(t, r.stdout, "index:org.opencontainers.image.source=https://example.invalid/app")
		assert.Contains(t, r.stdout, "manifest:com.example.arch=arm64", "arm64's own annotation")
		assert.Contains(t, r.stdout, "docker.io/acme/scanner:v1@sha256:", "the scanner is pinned like a base")
		lock, err := os.ReadFile(filepath.Join(dir, "archbuild.lock.hcl"))
		require.NoError(t, err)
		assert.Contains(t, string(lock), "docker.io/acme/scanner:v1")

		r = e.run(t, dir, "plan", "--format", "json")
		require.Equal(t, 0, r.code, r.stderr)
		var p struct {
			Builds []struct {
				ID          string            `json:"id"`
				Attest      map[string]any    `json:"attest"`
				Annotations map[string]string `json:"annotations"`
			} `json:"builds"`
		}
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &p))
		require.Len(t, p.Builds, 2)
		for _, b := range p.Builds {
			assert.Equal(t, map[string]any{"provenance": "max", "sbom": true, "sbom_generator": "docker.io/acme/scanner:v1"}, b.Attest, b.ID)
			assert.Equal(t, "app", b.Annotations["manifest:org.opencontainers.image.title"], b.ID)
		}
	})

	r = e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)
	pinned := lockedDigests(t, dir, "docker.io/library/busybox:latest")

	body, _ := reg.get(t, "/v2/attest/app/manifests/v1")
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(body, &idx))
	assert.Equal(t, "https://example.invalid/app", idx.Annotations["org.opencontainers.image.source"], "index annotation")

	images := map[string]ocispecs.Descriptor{}  // platform -> image manifest
	attests := map[string]ocispecs.Descriptor{} // image manifest digest -> its attestation manifest
	for _, d := range idx.Manifests {
		if d.Annotations["vnd.docker.reference.type"] == "attestation-manifest" {
			attests[d.Annotations["vnd.docker.reference.digest"]] = d
			continue
		}
		require.NotNil(t, d.Platform)
		images[d.Platform.OS+"/"+d.Platform.Architecture] = d
	}
	require.Len(t, images, 2)
	for p, d := range images {
		t.Run(p, func(t *testing.T) {
			body, _ := reg.get(t, "/v2/attest/app/manifests/"+d.Digest.String())
			var m ocispecs.Manifest
			require.NoError(t, json.Unmarshal(body, &m))
			assert.Equal(t, "app", m.Annotations["org.opencontainers.image.title"], "manifest annotation")
			if p == "linux/arm64" {
				assert.Equal(t, "arm64", m.Annotations["com.example.arch"], "the platform's own annotation")
			} else {
				assert.NotContains(t, m.Annotations, "com.example.arch", "another platform's annotation")
			}

			ad, ok := attests[d.Digest.String()]
			require.True(t, ok, "an attestation manifest for %s", p)
			stmts := attestationStatements(t, reg, ad)
			prov, ok := stmts["https://slsa.dev/provenance/v1"]
			require.True(t, ok, "provenance among %v", attestKeys(stmts))
			text := string(prov.Predicate)
			assert.Contains(t, text, pinned[p], "the pinned base digest is a resolved dependency")
			assert.Contains(t, text, "pkg:oci/busybox?digest=sha256:"+pinned[p], "named as BuildKit's OCI layout source: archc serves bases from its store")
			var pr struct {
				RunDetails struct {
					Metadata struct {
						BuildKit struct {
							Source struct {
								Infos []struct {
									Filename, Language string
									Data               []byte
								} `json:"infos"`
							} `json:"source"`
						} `json:"buildkit_metadata"`
					} `json:"metadata"`
				} `json:"runDetails"`
			}
			require.NoError(t, json.Unmarshal(prov.Predicate, &pr))
			infos := pr.RunDetails.Metadata.BuildKit.Source.Infos
			require.Len(t, infos, 1, "max mode carries the Dockerfile")
			assert.Equal(t, "app/Dockerfile", infos[0].Filename, "the Dockerfile is named, relative to the spec")
			assert.Equal(t, "Dockerfile", infos[0].Language)
			assert.Contains(t, string(infos[0].Data), "RUN echo attested", "with its content")

			sbom, ok := stmts["https://spdx.dev/Document"]
			require.True(t, ok, "an SBOM among %v", attestKeys(stmts))
			assert.Contains(t, string(sbom.Predicate), "archc-e2e-scan")
			assert.Contains(t, string(sbom.Predicate), "attested", "the scanner saw the image's files")
		})
	}

	t.Run("a scanner that cannot be pulled fails the plan, naming it", func(t *testing.T) {
		bad := t.TempDir()
		write(t, bad, map[string]string{
			"archbuild.hcl":  fmt.Sprintf(attestSpec, e.mirror.URL, e.push.Host, "acme/no-such-scanner:v1"),
			"app/Dockerfile": "FROM busybox\n",
		})
		r := e.run(t, bad, "plan")
		require.NotEqual(t, 0, r.code)
		assert.Contains(t, r.stderr, "docker.io/acme/no-such-scanner:v1")
		assert.Contains(t, r.stderr, "not found", "resolved through the mirror like a base, before any build")
	})
}

// attestationStatements reads an attestation manifest's layers, by predicate type.
func attestationStatements(t *testing.T, reg registryClient, d ocispecs.Descriptor) map[string]inToto {
	t.Helper()
	body, _ := reg.get(t, "/v2/attest/app/manifests/"+d.Digest.String())
	var m ocispecs.Manifest
	require.NoError(t, json.Unmarshal(body, &m))
	out := map[string]inToto{}
	for _, l := range m.Layers {
		blob, _ := reg.get(t, "/v2/attest/app/blobs/"+l.Digest.String())
		var s inToto
		require.NoError(t, json.Unmarshal(blob, &s), "layer %s", l.Digest)
		out[s.PredicateType] = s
	}
	return out
}

// lockedDigests are the manifest digests the lock in dir pins ref to, by platform (without
// the algorithm, as the provenance's digest sets write them).
func lockedDigests(t *testing.T, dir, ref string) map[string]string {
	t.Helper()
	r, err := os.ReadFile(filepath.Join(dir, "archbuild.lock.hcl"))
	require.NoError(t, err)
	text := string(r)
	i := strings.Index(text, `"`+ref+`"`)
	require.GreaterOrEqual(t, i, 0, "%s in the lock", ref)
	out := map[string]string{}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		j := strings.Index(text[i:], `"`+p+`"`)
		require.GreaterOrEqual(t, j, 0)
		k := strings.Index(text[i+j:], "sha256:")
		require.GreaterOrEqual(t, k, 0)
		out[p] = text[i+j+k+len("sha256:") : i+j+k+len("sha256:")+64]
	}
	return out
}

func attestKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
