package registry

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUpdateLock walks one lock through every ChangeKind against a real registry behind a
// mirror: each step starts from the previous step's lock, with one cache throughout.
func TestUpdateLock(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	v1 := testenv.PushTiny(t, reg, "library/busybox", "1.36")
	al := testenv.PushTiny(t, reg, "library/alpine", "3.20")
	fp := testenv.StartFaultProxy(t, reg.URL)
	r := newTestResolver(t, mirrorSpec(true, fp.URL), WithAttemptTimeout(500*time.Millisecond), WithTimeout(2*time.Second))
	const bb, alp = "docker.io/library/busybox:1.36", "docker.io/library/alpine:3.20"
	var v2 testenv.Image // busybox:1.36 after the tag moved
	amd := []string{"linux/amd64"}

	steps := []struct {
		name   string
		before func()
		reqs   []ImageRequest
		opts   LockOptions
		want   map[string]ChangeKind
		digest map[string]func() string // the pin's digest after the step
		err    string
	}{
		{name: "added", reqs: []ImageRequest{{Ref: bb, Platforms: amd}, {Ref: alp, Platforms: both}},
			want:   map[string]ChangeKind{bb: ChangeAdded, alp: ChangeAdded},
			digest: map[string]func() string{bb: func() string { return v1.Index.String() }}},
		{name: "kept", reqs: []ImageRequest{{Ref: bb, Platforms: amd}, {Ref: alp, Platforms: both}}, opts: LockOptions{CheckMoved: true},
			want: map[string]ChangeKind{bb: ChangeKept, alp: ChangeKept}},
		{name: "platforms added without moving the pin", reqs: []ImageRequest{{Ref: bb, Platforms: both}, {Ref: alp, Platforms: both}},
			want:   map[string]ChangeKind{bb: ChangePlatforms, alp: ChangeKept},
			digest: map[string]func() string{bb: func() string { return v1.Index.String() }}},
		{name: "moved tag is reported, pin kept", before: func() {
			c, err := testenv.TinyContent("busybox v2", both...)
			require.NoError(t, err)
			v2, err = c.Push(context.Background(), reg.URL, "library/busybox", "1.36")
			require.NoError(t, err)
		}, reqs: []ImageRequest{{Ref: bb, Platforms: both}, {Ref: alp, Platforms: both}}, opts: LockOptions{CheckMoved: true},
			want:   map[string]ChangeKind{bb: ChangeMoved, alp: ChangeKept},
			digest: map[string]func() string{bb: func() string { return v1.Index.String() }}},
		{name: "a dry run reports what would move and resolves nothing new",
			reqs:   []ImageRequest{{Ref: bb, Platforms: both}, {Ref: alp, Platforms: both}, {Ref: "docker.io/library/debian:12", Platforms: both}},
			opts:   LockOptions{CheckMoved: true, DryRun: true},
			want:   map[string]ChangeKind{bb: ChangeMoved, alp: ChangeKept, "docker.io/library/debian:12": ChangeAdded},
			digest: map[string]func() string{bb: func() string { return v1.Index.String() }}},
		{name: "--image names an unused image", reqs: []ImageRequest{{Ref: alp, Platforms: both}},
			opts: LockOptions{Update: true, Images: []string{"debian:12"}}, err: "docker.io/library/debian:12: no component uses this image"},
		{name: "--update --image moves only that pin", reqs: []ImageRequest{{Ref: bb, Platforms: both}, {Ref: alp, Platforms: both}},
			opts: LockOptions{Update: true, Images: []string{"alpine:3.20"}}, want: map[string]ChangeKind{bb: ChangeKept, alp: ChangeKept},
			digest: map[string]func() string{bb: func() string { return v1.Index.String() }, alp: func() string { return al.Index.String() }}},
		{name: "unchecked when the mirror refuses", before: func() { fp.Set(testenv.Status(http.StatusForbidden, nil)) },
			reqs: []ImageRequest{{Ref: bb, Platforms: both}}, opts: LockOptions{CheckMoved: true},
			want:   map[string]ChangeKind{bb: ChangeUnchecked, alp: ChangeRemoved},
			digest: map[string]func() string{bb: func() string { return v1.Index.String() }}},
		{name: "--update moves it", before: fp.Clear, reqs: []ImageRequest{{Ref: bb, Platforms: both}},
			opts: LockOptions{Update: true}, want: map[string]ChangeKind{bb: ChangeUpdated},
			digest: map[string]func() string{bb: func() string { return v2.Index.String() }}},
		{name: "a failed update returns no lock", before: func() { fp.Set(testenv.Status(http.StatusNotFound, nil)) },
			reqs: []ImageRequest{{Ref: bb, Platforms: both}}, opts: LockOptions{Update: true}, err: "docker.io/library/busybox:1.36: mirror " + fp.URL},
	}
	lock := &Lock{}
	for _, st := range steps {
		// Steps depend on each other: no t.Run, so a failure stops the walk where it is.
		if st.before != nil {
			st.before()
		}
		old := string(lock.Bytes())
		next, changes, err := r.UpdateLock(context.Background(), lock, st.reqs, st.opts)
		assert.Equal(t, old, string(lock.Bytes()), "%s: the old lock is not modified", st.name)
		if st.err != "" {
			require.Error(t, err, st.name)
			assert.Contains(t, err.Error(), st.err, st.name)
			assert.Nil(t, next, st.name)
			continue
		}
		require.NoError(t, err, st.name)
		got := map[string]ChangeKind{}
		for _, ch := range changes {
			got[ch.Ref] = ch.Kind
			switch ch.Kind {
			case ChangeMoved:
				assert.Equal(t, v2.Index, ch.New, st.name)
				assert.Equal(t, v1.Index, ch.Old, st.name)
			case ChangePlatforms:
				assert.Equal(t, []string{"linux/arm64"}, ch.Platforms, st.name)
			case ChangeUnchecked:
				require.Error(t, ch.Err, st.name)
				assert.Contains(t, ch.Err.Error(), "403", st.name)
			case ChangeUpdated:
				assert.Equal(t, v1.Index, ch.Old, st.name)
				assert.Equal(t, v2.Index, ch.New, st.name)
			}
		}
		assert.Equal(t, st.want, got, st.name)
		for ref, want := range st.digest {
			require.NotNil(t, next.Find(ref), st.name)
			assert.Equal(t, want(), next.Find(ref).Digest.String(), "%s: %s", st.name, ref)
		}
		lock = next
	}
	bbPin := lock.Find(bb)
	require.NotNil(t, bbPin)
	for p, want := range v2.Platforms {
		require.NotNil(t, bbPin.Platform(p), p)
		assert.Equal(t, want.Manifest, bbPin.Platform(p).Manifest, p)
	}
}
