package compiler

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/registry"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPlanFileRoundTrip(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	plan := compileProject(t, dir)
	path := filepath.Join(dir, "plan.archc")
	require.NoError(t, NewPlanFile(plan, s.Files).Save(path))

	f, err := LoadPlanFile(path)
	require.NoError(t, err)
	assert.Equal(t, s.Files, f.SpecFiles)
	require.Len(t, f.Plan.Builds, len(plan.Builds))
	for i, b := range plan.Builds {
		got := f.Plan.Builds[i]
		assert.Equal(t, b.LLBDigest, got.LLBDigest)
		assert.Equal(t, b.Definition.Def, got.Definition.Def, b.ID)
		assert.Equal(t, b.ImageConfig, got.ImageConfig)
		assert.Equal(t, b.Contexts, got.Contexts)
		assert.Equal(t, b.Bases, got.Bases)
		assert.Equal(t, b.Outputs, got.Outputs)
	}
	assert.Equal(t, string(render(t, plan, "json")), string(render(t, f.Plan, "json")), "a loaded plan renders the same")
	assert.Len(t, f.Lock, 5)
	assert.Equal(t, map[string]string{
		"archc:app": filepath.Join(dir, "app"), "archc:assets": filepath.Join(dir, "assets"),
		"archc:base": filepath.Join(dir, "base"), "archc:static": filepath.Join(dir, "static"),
	}, f.Plan.LocalDirs(dir))
	require.NoError(t, f.Verify(context.Background(), s, lockOf(f.Lock)))
}

func TestPlanFileVerifyRefusesChanges(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"context edited", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "assets", "index.html"), "changed")
		}, "context assets changed (used by app/linux/amd64, app/linux/arm64)"},
		{"dockerignore edited", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "base", ".dockerignore"), "*.bak\n")
		}, "context base changed"},
		{"ignored file edited", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "base", "notes.bak"), "changed")
		}, ""},
		{"Dockerfile.dockerignore added", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "base", "Dockerfile.dockerignore"), "*\n")
		}, "context base changed (used by base/linux/amd64, base/linux/arm64)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			s := projectSpec(t, dir)
			path := filepath.Join(dir, "plan.archc")
			require.NoError(t, NewPlanFile(compileProject(t, dir), s.Files).Save(path))
			tc.edit(t, dir)
			f, err := LoadPlanFile(path)
			require.NoError(t, err)
			err = f.Verify(context.Background(), s, nil)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrStale)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPlanFileVerifySpecAndPins(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	path := filepath.Join(dir, "plan.archc")
	require.NoError(t, NewPlanFile(compileProject(t, dir), s.Files).Save(path))
	f, err := LoadPlanFile(path)
	require.NoError(t, err)

	s.Proxy = nil // not part of the spec digest
	require.NoError(t, f.Verify(context.Background(), s, nil))

	s.Components[2].Tags = []string{"registry.invalid/app:other"}
	err = f.Verify(context.Background(), s, nil)
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), "the spec changed")

	// Pins are checked against the lock alone: its image configs are in no cache here, as
	// on a fresh CI runner, and that is not a reason to refuse.
	require.NoError(t, f.Verify(context.Background(), projectSpec(t, dir), lockOf(f.Lock)))

	moved := lockOf(f.Lock)
	moved.Find("docker.io/library/alpine:3.20").Platform("linux/amd64").Manifest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	err = f.Verify(context.Background(), projectSpec(t, dir), moved)
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), "pin docker.io/library/alpine:3.20 (linux/amd64) moved")

	gone := lockOf(f.Lock[1:])
	err = f.Verify(context.Background(), projectSpec(t, dir), gone)
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), "pin "+f.Lock[0].Ref+" ("+f.Lock[0].Platform+") is no longer in archbuild.lock.hcl")
}

// lockOf is a lock holding exactly the given pins, with config digests no cache has.
func lockOf(entries []LockEntry) *registry.Lock {
	l := &registry.Lock{}
	for _, e := range entries {
		im := registry.Image{Ref: e.Ref, Host: e.Host}
		if old := l.Find(e.Ref); old != nil {
			im = *old
		}
		im.Platforms = append(im.Platforms, registry.PlatformImage{Platform: e.Platform, Manifest: e.Digest, Config: digest.FromString("config not in any cache " + e.Ref)})
		l.Set(im)
	}
	return l
}

func TestPlanFileKeepsOutsideVariables(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	path := filepath.Join(dir, "plan.archc")
	pf := NewPlanFile(compileProject(t, dir), s.Files)
	pf.Vars = map[string]string{"TAG": "1.0", "PROXY_PASSWORD": "s3cr3t-pw"}
	require.NoError(t, pf.Save(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "variables may be secrets")
	f, err := LoadPlanFile(path)
	require.NoError(t, err)
	assert.Equal(t, pf.Vars, f.Vars)
}

func TestLoadPlanFileRejectsEdits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.archc")
	require.NoError(t, os.WriteFile(path, []byte(`{"archc_plan_file":"other/9"}`), 0o644))
	_, err := LoadPlanFile(path)
	assert.ErrorContains(t, err, "run archc plan -out again")

	require.NoError(t, os.WriteFile(path, []byte(`not json`), 0o644))
	_, err = LoadPlanFile(path)
	assert.ErrorContains(t, err, "expected a file written by `archc plan -out`")
}
