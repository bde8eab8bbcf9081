package registry

import (
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func d(s string) digest.Digest { return digest.FromString(s) }

func sampleLock() *Lock {
	l := &Lock{}
	l.Set(Image{Ref: "docker.io/library/busybox:1.36", Digest: d("bb"), Host: "127.0.0.1:5000",
		Platforms: []PlatformImage{
			{Platform: "linux/arm64", Manifest: d("bb-arm64"), Config: d("bb-arm64-c")},
			{Platform: "linux/amd64", Manifest: d("bb-amd64"), Config: d("bb-amd64-c")},
		}})
	l.Set(Image{Ref: "docker.io/library/alpine:3.20", Digest: d("al"), Host: "registry-1.docker.io",
		Platforms: []PlatformImage{{Platform: "linux/amd64", Manifest: d("al-amd64"), Config: d("al-amd64-c")}}})
	return l
}

func TestLockGoldenRoundTrip(t *testing.T) {
	t.Parallel()
	l := sampleLock()
	out := l.Bytes()
	golden(t, "lock.golden.hcl", out)

	back, err := ParseLock(out, "archbuild.lock.hcl")
	require.NoError(t, err)
	assert.Equal(t, l.Images, back.Images)
	assert.Equal(t, out, back.Bytes(), "render → parse → render is stable")
}

func TestLockFind(t *testing.T) {
	t.Parallel()
	l := sampleLock()
	tests := []struct {
		ref  string
		want string
	}{
		{"alpine:3.20", "docker.io/library/alpine:3.20"},
		{"docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
		{"busybox", ""},
		{"not a ref!", ""},
	}
	for _, tt := range tests {
		im := l.Find(tt.ref)
		if tt.want == "" {
			assert.Nil(t, im, tt.ref)
			continue
		}
		require.NotNil(t, im, tt.ref)
		assert.Equal(t, tt.want, im.Ref)
	}
	bb := l.Find("busybox:1.36")
	assert.Equal(t, "docker.io/library/busybox@"+d("bb-arm64").String(), bb.Pinned("linux/arm64"))
	assert.Empty(t, bb.Pinned("linux/s390x"))
}

func TestWriteLockAtomic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, LockFileName)
	missing, err := ReadLock(path)
	require.NoError(t, err)
	assert.Empty(t, missing.Images)

	require.NoError(t, WriteLock(path, sampleLock()))
	got, err := ReadLock(path)
	require.NoError(t, err)
	assert.Equal(t, sampleLock().Images, got.Images)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")

	// A write that cannot complete leaves the old file as it was.
	require.NoError(t, os.Chmod(dir, 0o500))
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	if os.Geteuid() != 0 { // root ignores directory permissions
		require.Error(t, WriteLock(path, &Lock{}))
		got, err = ReadLock(path)
		require.NoError(t, err)
		assert.Equal(t, sampleLock().Images, got.Images)
	}
}

func TestCache(t *testing.T) {
	t.Parallel()
	c, err := OpenCache(t.TempDir())
	require.NoError(t, err)
	data := []byte(`{"architecture":"arm64"}`)
	dg := digest.FromBytes(data)
	_, err = c.Get(dg)
	require.ErrorIs(t, err, ErrNotCached)
	assert.False(t, c.Has(dg))
	require.Error(t, c.Put(dg, []byte("other")), "content must match its digest")
	require.NoError(t, c.Put(dg, data))
	got, err := c.Get(dg)
	require.NoError(t, err)
	assert.Equal(t, data, got)
	require.NoError(t, os.WriteFile(c.path(dg), []byte("corrupt"), 0o644))
	_, err = c.Get(dg)
	require.ErrorIs(t, err, ErrNotCached, "a corrupt entry reads as a miss")
}

func TestDefaultCacheDirHonoursXDG(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg-test")
	dir, err := DefaultCacheDir()
	require.NoError(t, err)
	assert.Equal(t, "/tmp/xdg-test/archc", dir)
}
