package registry

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResolveRefusesMislabelledIndex: an index entry whose config says another platform is
// not pinned, once, with what the index lists and what the config says; the entries that
// are right still pin, and re-pinning an edited lock (lock --update --image) fails the
// same way instead of writing the pin again.
func TestResolveRefusesMislabelledIndex(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	c, err := testenv.TinyContent("library/mislabelled", both...)
	require.NoError(t, err)
	var idx ocispec.Index
	require.NoError(t, json.Unmarshal(c.Index.Data, &idx))
	require.Len(t, idx.Manifests, 2)
	// The arm64 manifest, listed under linux/amd64 as well as under its own platform.
	armDesc := idx.Manifests[1]
	require.Equal(t, "arm64", armDesc.Platform.Architecture)
	lying := armDesc
	lying.Platform = &ocispec.Platform{OS: "linux", Architecture: "amd64"}
	idx.Manifests = []ocispec.Descriptor{lying, armDesc}
	c.Index.Data, err = json.Marshal(idx)
	require.NoError(t, err)
	img := pushContent(t, c, reg, "library/mislabelled")
	arm := img.Platforms["linux/arm64"]

	s := mirrorSpec(true, reg.URL)
	ref := "docker.io/library/mislabelled:1.36"
	r := newTestResolver(t, s)
	_, err = r.Resolve(context.Background(), ref, []string{"linux/amd64"})
	var re *ResolveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ClassNotFound, re.Class(), "content pinned by digest does not change on retry")
	require.Len(t, re.Hosts, 1)
	assert.Equal(t, 1, re.Hosts[0].Attempts)
	assert.Equal(t, ref+": mirror "+reg.URL+": no linux/amd64 image: the index lists manifest "+arm.Manifest.String()+
		" under linux/amd64, but its config "+arm.Config.String()+" says linux/arm64: the image is mislabelled upstream; pin another tag or digest of it",
		err.Error())
	var h interface{ Hint() string }
	require.ErrorAs(t, err, &h)
	assert.Contains(t, h.Hint(), "pin another tag or digest of "+ref, "the hint says the image is at fault, not the tag")

	got, err := r.Resolve(context.Background(), ref, []string{"linux/arm64"})
	require.NoError(t, err, "the entry the index lists rightly still pins")
	assert.Equal(t, arm.Manifest, got.Platforms[0].Manifest)

	edited := &Lock{}
	edited.Set(Image{Ref: ref, Digest: img.Index, Host: strings.TrimPrefix(reg.URL, "http://"), Platforms: []PlatformImage{
		{Platform: "linux/amd64", Manifest: arm.Manifest, Config: arm.Config},
	}})
	reqs := []ImageRequest{{Ref: ref, Platforms: []string{"linux/amd64"}}}
	next, _, err := newTestResolver(t, s).UpdateLock(context.Background(), edited, reqs, LockOptions{Update: true, Images: []string{ref}})
	assert.Nil(t, next)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "mislabelled upstream")
}

// TestCheckConfig: the one rule for a config's platform, as pinning and VerifyLock apply it.
func TestCheckConfig(t *testing.T) {
	t.Parallel()
	plat := func(s string) *ocispec.Platform {
		p, err := platforms.Parse(s)
		require.NoError(t, err)
		return &p
	}
	cfg := func(os, arch, variant string) []byte {
		data, err := json.Marshal(ocispec.Image{Platform: ocispec.Platform{OS: os, Architecture: arch, Variant: variant}})
		require.NoError(t, err)
		return data
	}
	tests := []struct {
		name      string
		want      string
		listed    *ocispec.Platform // nil: a single-platform image
		config    []byte
		err       string // "" when the config may be pinned for want
		mislabel  bool
		malformed bool
	}{
		{name: "index entry, config agrees", want: "linux/amd64", listed: plat("linux/amd64"), config: cfg("linux", "amd64", "")},
		{name: "index entry, config for another platform", want: "linux/amd64", listed: plat("linux/amd64"), config: cfg("linux", "arm64", ""),
			err: "no linux/amd64 image: the index lists manifest sha256:m under linux/amd64, but its config sha256:c says linux/arm64", mislabel: true},
		{name: "index entry picked as compatible, config agrees with it", want: "linux/amd64", listed: plat("linux/386"), config: cfg("linux", "386", "")},
		{name: "index entry, config states no platform", want: "linux/amd64", listed: plat("linux/amd64"), config: []byte(`{}`)},
		{name: "index entry, config leaves out the variant", want: "linux/arm/v6", listed: plat("linux/arm/v6"), config: cfg("linux", "arm", "")},
		{name: "index entry, config for a newer variant", want: "linux/arm/v6", listed: plat("linux/arm/v6"), config: cfg("linux", "arm", "v7"),
			err: "says linux/arm/v7", mislabel: true},
		{name: "arm64 config spelling v8", want: "linux/arm64", listed: plat("linux/arm64/v8"), config: cfg("linux", "arm64", "v8")},
		{name: "single-platform image", want: "linux/arm64", config: cfg("linux", "arm64", "")},
		{name: "single-platform image of another platform", want: "linux/amd64", config: cfg("linux", "arm64", ""),
			err: "no linux/amd64 image (has [linux/arm64])"},
		{name: "single-platform image that states no platform", want: "linux/amd64", config: []byte(`{}`), err: "no linux/amd64 image"},
		{name: "config not JSON", want: "linux/amd64", listed: plat("linux/amd64"), config: []byte(`{`), err: "sha256:c: bad image config", malformed: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkConfig("docker.io/library/x:1", platforms.Normalize(*plat(tt.want)), tt.listed, digest.Digest("sha256:m"), digest.Digest("sha256:c"), tt.config)
			if tt.err == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.err)
			var pe *platformError
			var me *malformedError
			assert.Equal(t, tt.malformed, errors.As(err, &me))
			if !tt.malformed {
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.mislabel, pe.mislabel != nil)
			}
		})
	}
}
