package compiler

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A final stage FROM scratch with only metadata is an image with no layers (BuildKit's
// frontend builds it); it used to fail with "empty LLB definition".
func TestConfigOnlyBuild(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		dockerfile string
		configOnly bool
		env        string
	}{
		{"metadata only", "FROM scratch\nENV foo=bar\n", true, "foo=bar"},
		{"metadata after an unused stage", "FROM busybox:1.36 AS tools\nRUN true\nFROM scratch\nLABEL a=b\nENV x=1\n", true, "x=1"},
		{"scratch with a COPY", "FROM scratch\nCOPY site/ /site/\nENV foo=bar\n", false, "foo=bar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			require.NoError(t, os.WriteFile(filepath.Join(dir, "static", "Dockerfile"), []byte(tc.dockerfile), 0o644))
			s := projectSpec(t, dir)
			plan := compileProject(t, dir)
			b := plan.Build("static/linux/amd64")
			require.NotNil(t, b)
			assert.Equal(t, tc.configOnly, ConfigOnly(b.Definition.ToPB()))
			var img ocispecs.Image
			require.NoError(t, json.Unmarshal(b.ImageConfig, &img))
			assert.Contains(t, img.Config.Env, tc.env)
			assert.Equal(t, "amd64", img.Architecture)
			if !tc.configOnly {
				assert.Positive(t, b.Ops)
				return
			}
			assert.Equal(t, 0, b.Ops)
			assert.Equal(t, digest.FromBytes(nil), b.LLBDigest, "the digest of the empty terminal op")
			assert.Empty(t, b.Bases, "an unused stage pins nothing")
			assert.Empty(t, img.RootFS.DiffIDs)
			view, err := NewView("text", nil)
			require.NoError(t, err)
			var text strings.Builder
			require.NoError(t, view.Plan(&text, plan))
			assert.Contains(t, text.String(), "(0 ops: config only, no layers)")

			// The solve-time rewrites keep it config-only, and a plan file carries it.
			withProxy, err := WithProxy(b.Definition, s.Proxy)
			require.NoError(t, err)
			stored, err := WithBaseStore(withProxy, "store")
			require.NoError(t, err)
			assert.True(t, ConfigOnly(stored.ToPB()))
			path := filepath.Join(dir, "plan.archc")
			require.NoError(t, NewPlanFile(plan, s.Files).Save(path))
			f, err := LoadPlanFile(path)
			require.NoError(t, err)
			got := f.Plan.Build("static/linux/amd64")
			require.NotNil(t, got)
			assert.Equal(t, b.LLBDigest, got.LLBDigest)
			assert.True(t, ConfigOnly(got.Definition.ToPB()))
		})
	}
}

func TestConfigOnlyRecognisesDefinitions(t *testing.T) {
	t.Parallel()
	def, err := configOnlyDefinition()
	require.NoError(t, err)
	plan := compileProject(t, projectDir)
	for _, tc := range []struct {
		name string
		pb   func() bool
		want bool
	}{
		{"nil", func() bool { return ConfigOnly(nil) }, true},
		{"config-only", func() bool { return ConfigOnly(def.ToPB()) }, true},
		{"a real build", func() bool { return ConfigOnly(plan.Build("static/linux/amd64").Definition.ToPB()) }, false},
	} {
		assert.Equal(t, tc.want, tc.pb(), tc.name)
	}
}
