package solver

import (
	"testing"

	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
)

// TestRecordPlatformDigests: from an index BuildKit wrote (image manifests and attestation
// manifests), each platform gets its manifest digest and the digest of the attestation
// manifest that refers to it, which --metadata-file reports.
func TestRecordPlatformDigests(t *testing.T) {
	t.Parallel()
	amd, arm := platforms.MustParse("linux/amd64"), platforms.MustParse("linux/arm64")
	unknown := ocispecs.Platform{OS: "unknown", Architecture: "unknown"}
	mAmd, mArm := digest.FromString("amd"), digest.FromString("arm")
	aAmd, aArm := digest.FromString("att-amd"), digest.FromString("att-arm")
	att := func(d, of digest.Digest) ocispecs.Descriptor {
		return ocispecs.Descriptor{Digest: d, Platform: &unknown, Annotations: map[string]string{
			attestationRefType: attestationManifest, attestationRefDigest: of.String()}}
	}
	r := &jobRun{pos: map[string]int{"linux/amd64": 0, "linux/arm64": 1},
		res: &Result{Builds: []BuildResult{{Platform: "linux/amd64"}, {Platform: "linux/arm64"}}}}
	r.recordPlatformDigests([]ocispecs.Descriptor{
		{Digest: mAmd, Platform: &amd}, {Digest: mArm, Platform: &arm}, att(aArm, mArm), att(aAmd, mAmd),
	})
	assert.Equal(t, mAmd.String(), r.res.Builds[0].Digest)
	assert.Equal(t, aAmd.String(), r.res.Builds[0].Attestation)
	assert.Equal(t, mArm.String(), r.res.Builds[1].Digest)
	assert.Equal(t, aArm.String(), r.res.Builds[1].Attestation)

	md := NewMetadata([]Result{{Component: "app", Builds: r.res.Builds, SourceDateEpoch: "1700000000"}}, nil, nil)
	assert.Equal(t, aArm.String(), md.Components["app"].Platforms["linux/arm64"].Attestation)
	assert.Equal(t, "1700000000", md.Components["app"].SourceDateEpoch)
}
