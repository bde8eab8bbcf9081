package registry

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const busyboxRef = "docker.io/library/busybox:1.36"

// busyboxReq asks for both platforms of the seeded busybox.
var busyboxReq = []ImageRequest{{Ref: busyboxRef, Platforms: both}}

// pinLock resolves ref as `archc lock` would and returns the lock as read back from its
// file, so its pins have ranges.
func pinLock(t *testing.T, r *Resolver, ref string) *Lock {
	t.Helper()
	im, err := r.Resolve(context.Background(), ref, both)
	require.NoError(t, err)
	l := &Lock{}
	l.Set(*im)
	return l
}

// reparse renders l and parses it back, as the lock file on disk would be read.
func reparse(t *testing.T, l *Lock) *Lock {
	t.Helper()
	back, err := ParseLock(l.Bytes(), LockFileName)
	require.NoError(t, err)
	return back
}

func pushContent(t *testing.T, c *testenv.Content, reg *testenv.Registry, repo string) testenv.Image {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	img, err := c.Push(ctx, reg.URL, repo, "1.36")
	require.NoError(t, err)
	return img
}

// TestVerifyLock: a lock whose pins its index contradicts is refused, each mismatch at its
// line in the lock file, saying what the index lists. Every case starts with a cold cache,
// so the content is fetched (and verified by digest) first.
func TestVerifyLock(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	other, err := testenv.TinyContent("library/other", both...)
	require.NoError(t, err)
	foreign := pushContent(t, other, sd.reg, "library/other")
	s := mirrorSpec(true, sd.reg.URL)
	good := pinLock(t, newTestResolver(t, s), busyboxRef)
	amd, arm := sd.img.Platforms["linux/amd64"], sd.img.Platforms["linux/arm64"]
	idx := sd.img.Index.String()

	tests := []struct {
		name   string
		tamper func(im *Image)
		want   []string // substrings of the error, in order where it matters
	}{
		{"untouched", func(*Image) {}, nil},
		{"swapped manifests", func(im *Image) {
			im.Platforms[0].Manifest, im.Platforms[1].Manifest = im.Platforms[1].Manifest, im.Platforms[0].Manifest
		}, []string{
			"archbuild.lock.hcl:9:16: error: Manifest not listed for linux/amd64 in the pinned index",
			"linux/amd64 manifest " + arm.Manifest.String() + " is listed in index " + idx + " under linux/arm64; the index lists " + amd.Manifest.String() + " for linux/amd64.",
			"archbuild.lock.hcl:14:16: error: Manifest not listed for linux/arm64",
			"the index lists " + arm.Manifest.String() + " for linux/arm64.",
		}},
		{"swapped platform pins", func(im *Image) {
			im.Platforms[0].Manifest, im.Platforms[1].Manifest = im.Platforms[1].Manifest, im.Platforms[0].Manifest
			im.Platforms[0].Config, im.Platforms[1].Config = im.Platforms[1].Config, im.Platforms[0].Config
		}, []string{"archbuild.lock.hcl:9:16:", "under linux/arm64", "archbuild.lock.hcl:14:16:", "under linux/amd64"}},
		{"manifest of another repository", func(im *Image) {
			im.Platforms[0].Manifest = foreign.Platforms["linux/amd64"].Manifest
		}, []string{
			"archbuild.lock.hcl:9:16:",
			"linux/amd64 manifest " + foreign.Platforms["linux/amd64"].Manifest.String() + " is not listed in index " + idx + "; the index lists " + amd.Manifest.String() + " for linux/amd64.",
		}},
		{"config of another platform", func(im *Image) {
			im.Platforms[0].Config = arm.Config
		}, []string{
			"archbuild.lock.hcl:10:16: error: Config is not the one the manifest names",
			"linux/amd64 config " + arm.Config.String() + " is not what manifest " + amd.Manifest.String() + " names: it names " + amd.Config.String() + ".",
		}},
		{"platform the index does not list", func(im *Image) {
			im.Platforms = append(im.Platforms, PlatformImage{Platform: "linux/s390x", Manifest: amd.Manifest, Config: amd.Config})
		}, []string{"archbuild.lock.hcl:19:16:", "the index lists no linux/s390x manifest (it lists linux/amd64, linux/arm64/v8)"}},
		{"index of another repository", func(im *Image) {
			im.Digest = foreign.Index
		}, []string{"archbuild.lock.hcl:5:12: error: Pinned index not found", "index " + foreign.Index.String() + " is not in the repository"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := &Lock{}
			im := *good.Find(busyboxRef)
			im.Platforms = append([]PlatformImage(nil), im.Platforms...)
			tt.tamper(&im)
			l.Set(im)
			r := newTestResolver(t, s)
			err := r.VerifyLock(context.Background(), reparse(t, l), busyboxReq)
			if tt.want == nil {
				require.NoError(t, err)
				assert.Positive(t, r.Requests(), "a cold cache is filled from the registry")
				return
			}
			t.Log(err)
			var me *LockMismatchError
			require.ErrorAs(t, err, &me)
			assert.Equal(t, []string{busyboxRef}, me.Refs)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Contains(t, me.Hint(), "archc lock --update --image "+busyboxRef)
			assert.Contains(t, me.Hint(), "edited")
		})
	}
}

// TestVerifyLockWarmCacheNoRequests: once the content is cached, verifying makes no request.
func TestVerifyLockWarmCacheNoRequests(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	fp := testenv.StartFaultProxy(t, sd.reg.URL)
	s := mirrorSpec(true, fp.URL)
	l := reparse(t, pinLock(t, newTestResolver(t, s), busyboxRef))

	fp.ResetLog()
	cold := newTestResolver(t, s)
	require.NoError(t, cold.VerifyLock(context.Background(), l, busyboxReq))
	// The index by digest, then per platform its manifest and config.
	assert.Equal(t, 5, fp.Count("/v2/"))

	fp.ResetLog()
	warm, err := NewResolver(s, cold.Cache(), WithDialContext(loopbackOnly))
	require.NoError(t, err)
	require.NoError(t, warm.VerifyLock(context.Background(), l, busyboxReq))
	assert.Zero(t, fp.Count(""), "a warm cache answers everything")
	assert.Zero(t, warm.Requests())

	// The cache is trusted only by digest: a tampered lock is refused from it too, offline.
	swapped := &Lock{}
	im := *l.Find(busyboxRef)
	im.Platforms = []PlatformImage{
		{Platform: "linux/amd64", Manifest: im.Platforms[1].Manifest, Config: im.Platforms[1].Config},
		{Platform: "linux/arm64", Manifest: im.Platforms[0].Manifest, Config: im.Platforms[0].Config},
	}
	swapped.Set(im)
	var me *LockMismatchError
	require.ErrorAs(t, warm.VerifyLock(context.Background(), swapped, busyboxReq), &me)
	assert.Len(t, me.Diags, 2)
	assert.Nil(t, me.Diags[0].Subject, "a lock built in memory has no ranges")
	assert.Contains(t, me.Error(), busyboxRef+": linux/amd64 manifest")
	assert.Zero(t, fp.Count(""))
}

// TestVerifyLockInconsistentImage: an index that lists the arm64 manifest under
// linux/amd64 is refused by archc lock (Resolve), naming the platform, what the index lists
// and what the config says; a lock edited to pin it anyway is refused by the check.
func TestVerifyLockInconsistentImage(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	c, err := testenv.TinyContent("library/liar", both...)
	require.NoError(t, err)
	var idx ocispec.Index
	require.NoError(t, json.Unmarshal(c.Index.Data, &idx))
	idx.Manifests[0].Platform, idx.Manifests[1].Platform = idx.Manifests[1].Platform, idx.Manifests[0].Platform
	c.Index.Data, err = json.Marshal(idx)
	require.NoError(t, err)
	img := pushContent(t, c, reg, "library/liar")
	amd, arm := img.Platforms["linux/amd64"], img.Platforms["linux/arm64"]

	s := mirrorSpec(true, reg.URL)
	ref := "docker.io/library/liar:1.36"
	_, err = newTestResolver(t, s).Resolve(context.Background(), ref, both)
	require.Error(t, err, "archc lock does not pin a mislabelled index")
	assert.Contains(t, err.Error(), ref+": ")
	assert.Contains(t, err.Error(), "the image is mislabelled upstream; pin another tag or digest")
	_, err = newTestResolver(t, s).Resolve(context.Background(), ref, []string{"linux/amd64"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no linux/amd64 image: the index lists manifest "+arm.Manifest.String()+
		" under linux/amd64, but its config "+arm.Config.String()+" says linux/arm64")

	// The lock as if edited to pin it: each platform the manifest the index lists for it.
	l := &Lock{}
	l.Set(Image{Ref: ref, Digest: img.Index, Host: strings.TrimPrefix(reg.URL, "http://"), Platforms: []PlatformImage{
		{Platform: "linux/amd64", Manifest: arm.Manifest, Config: arm.Config},
		{Platform: "linux/arm64", Manifest: amd.Manifest, Config: amd.Config},
	}})
	err = newTestResolver(t, s).VerifyLock(context.Background(), reparse(t, l), []ImageRequest{{Ref: ref, Platforms: both}})
	var me *LockMismatchError
	require.ErrorAs(t, err, &me)
	assert.Contains(t, err.Error(), "archbuild.lock.hcl:8:12: error: Image config is for another platform")
	assert.Contains(t, err.Error(), "says linux/arm64: the image itself is inconsistent")
}

// TestVerifyLockOnlyUsedPins: pins no request names are not checked (Pin drops them).
func TestVerifyLockOnlyUsedPins(t *testing.T) {
	t.Parallel()
	l := &Lock{}
	l.Set(Image{Ref: "docker.io/library/unused:1", Digest: digest.FromString("x"), Host: "h",
		Platforms: []PlatformImage{{Platform: "linux/amd64", Manifest: digest.FromString("m"), Config: digest.FromString("c")}}})
	r := newTestResolver(t, mirrorSpec(true, "http://127.0.0.1:1"))
	require.NoError(t, r.VerifyLock(context.Background(), l, busyboxReq))
	assert.Zero(t, r.Requests())
}

// TestResolveKnownSkipsIndex: a platform resolved with its index already read (VerifyLock
// checks each pinned platform so) neither asks a host for the index nor reads it from the
// cache again: only the platform's manifest and config are read.
func TestResolveKnownSkipsIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cache, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	r, err := NewResolver(mirrorSpec(true, "http://127.0.0.1:1"), cache, WithDialContext(loopbackOnly))
	require.NoError(t, err)
	lock, _ := warmPins(t, cache, 1)
	im := lock.Images[0]
	byDigest, err := pinnedRef(im.Ref, im.Digest)
	require.NoError(t, err)
	_, top, err := r.resolveKnown(ctx, byDigest, nil, nil)
	require.NoError(t, err)
	require.Equal(t, im.Digest, top.desc.Digest)

	require.NoError(t, os.Remove(cache.path(im.Digest)))
	for _, p := range im.Platforms {
		got, _, err := r.resolveKnown(ctx, byDigest, []string{p.Platform}, top)
		require.NoError(t, err, p.Platform)
		assert.Equal(t, []PlatformImage{p}, got.Platforms)
	}
	assert.Zero(t, r.Requests())
	_, err = r.Resolve(ctx, byDigest, both)
	assert.Error(t, err, "without the index known, it must be read again")
}
