package registry

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPinOffline: a locked run refuses an incomplete or stale lock with a typed error that
// names no flag, and a complete lock with a warm cache is used as it is, without network.
func TestPinOffline(t *testing.T) {
	t.Parallel()
	const bb, alp = "docker.io/library/busybox:1.36", "docker.io/library/alpine:3.20"
	r := newTestResolver(t, mirrorSpec(true, "http://127.0.0.1:1"))
	cfg := []byte(`{"os":"linux"}`)
	require.NoError(t, r.cache.Put(digest.FromBytes(cfg), cfg))
	lock := &Lock{}
	lock.Set(Image{Ref: bb, Digest: digest.FromString("i"), Host: "h",
		Platforms: []PlatformImage{{Platform: "linux/amd64", Manifest: digest.FromString("m"), Config: digest.FromBytes(cfg)}}})
	amd := []string{"linux/amd64"}

	_, _, err := r.Pin(context.Background(), lock, []ImageRequest{{Ref: alp, Platforms: amd}}, LockOptions{Locked: true})
	var ood *OutOfDateError
	require.True(t, errors.As(err, &ood), "%v", err)
	assert.Equal(t, LockStatus{Missing: []string{alp + " (linux/amd64)"}, Stale: []string{bb}}, ood.Status)
	assert.NotContains(t, err.Error(), "--")

	next, changes, err := r.Pin(context.Background(), lock, []ImageRequest{{Ref: bb, Platforms: amd}}, LockOptions{Locked: true})
	require.NoError(t, err)
	assert.Same(t, lock, next)
	assert.Empty(t, changes)
	assert.Zero(t, r.Requests())
}

// TestReadLockFor: a lock that does not parse is recovered only when the update covers
// every pin that broke.
func TestReadLockFor(t *testing.T) {
	t.Parallel()
	const good = "image \"docker.io/library/a:1\" {\n  digest = \"sha256:" + "0000000000000000000000000000000000000000000000000000000000000000" + "\"\n  host = \"h\"\n}\n"
	const bad = "image \"docker.io/library/b:1\" {\n  digest = \"nope\"\n  host = \"h\"\n}\n"
	tests := []struct {
		name, content string
		opts          LockOptions
		wantErr       bool
		want          *LockRecovery
		pins          int
	}{
		{name: "fine", content: good, opts: LockOptions{Update: true}, pins: 1},
		{name: "broken, no update", content: good + bad, wantErr: true},
		{name: "broken, update all", content: good + bad, opts: LockOptions{Update: true}, want: &LockRecovery{Broken: []string{"docker.io/library/b:1"}}, pins: 1},
		{name: "broken, update names it", content: good + bad, opts: LockOptions{Update: true, Images: []string{"b:1"}}, want: &LockRecovery{Broken: []string{"docker.io/library/b:1"}}, pins: 1},
		{name: "broken, update names another", content: good + bad, opts: LockOptions{Update: true, Images: []string{"a:1"}}, wantErr: true},
		{name: "not HCL, update all", content: "{{{", opts: LockOptions{Update: true}, want: &LockRecovery{All: true}},
		{name: "not HCL, update names one", content: "{{{", opts: LockOptions{Update: true, Images: []string{"a:1"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), LockFileName)
			require.NoError(t, os.WriteFile(path, []byte(tt.content), 0o644))
			lock, rec, err := ReadLockFor(path, tt.opts)
			if tt.wantErr {
				var le *LockError
				require.True(t, errors.As(err, &le), "%v", err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, rec)
			assert.Len(t, lock.Images, tt.pins)
		})
	}
}
