package compiler

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
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
	require.NoError(t, f.Verify(context.Background(), s, newFakeImages()))
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

	err = f.Verify(context.Background(), projectSpec(t, dir), movedImages{newFakeImages()})
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), "pin docker.io/library/alpine:3.20 (linux/amd64) moved")
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

// movedImages answers like its inner fake except that alpine moved.
type movedImages struct{ *fakeImages }

func (m movedImages) Image(ctx context.Context, ref string, p ocispecs.Platform) (Image, error) {
	img, err := m.fakeImages.Image(ctx, ref, p)
	if ref == "docker.io/library/alpine:3.20" {
		img.Digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	}
	return img, err
}
