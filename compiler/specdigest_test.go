package compiler

import (
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
)

// TestSpecDigestHasNoSecrets: spec_digest is published, so nothing that may be a secret
// (variable values, the proxy and its credentials) may feed it; what decides the build does.
func TestSpecDigestHasNoSecrets(t *testing.T) {
	t.Parallel()
	withVar := func(value, source string) *spec.Spec {
		s := projectSpec(t, projectDir)
		s.Variables = []spec.Variable{{Name: "PROXY_PASSWORD", Type: "string", Value: value, Cty: cty.StringVal(value), Source: source}}
		return s
	}
	base, err := SpecDigest(withVar("s3cr3t-pw", "flag"))
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		s    *spec.Spec
		same bool
	}{
		{"variable value", withVar("guess-1", "flag"), true},
		{"variable source", withVar("s3cr3t-pw", "env"), true},
		{"no variables", projectSpec(t, projectDir), true},
		{"proxy credentials", func() *spec.Spec {
			s := withVar("s3cr3t-pw", "flag")
			s.Proxy.HTTPProxy = "http://alice:guess-2@127.0.0.1:7890"
			return s
		}(), true},
		{"proxy removed", func() *spec.Spec { s := withVar("s3cr3t-pw", "flag"); s.Proxy = nil; return s }(), true},
		{"a tag", func() *spec.Spec {
			s := withVar("s3cr3t-pw", "flag")
			s.Components[2].Tags = []string{"registry.invalid/app:1.0"}
			return s
		}(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := SpecDigest(tc.s)
			require.NoError(t, err)
			if tc.same {
				assert.Equal(t, base, got)
			} else {
				assert.NotEqual(t, base, got)
			}
		})
	}
}

// TestSpecDigestPathFreeCache: a local cache directory is absolute in the spec; the digest
// sees it relative, so a plan file made in one checkout is not stale in another.
func TestSpecDigestPathFreeCache(t *testing.T) {
	t.Parallel()
	digestIn := func(dir, dest string) digest.Digest {
		s := projectSpec(t, dir)
		for i := range s.Components {
			s.Components[i].CacheTo = []string{"type=local,dest=" + filepath.Join(dir, dest)}
			s.Components[i].CacheFrom = []string{"type=local,src=" + filepath.Join(dir, dest)}
		}
		d, err := SpecDigest(s)
		require.NoError(t, err)
		return d
	}
	a, b := t.TempDir(), t.TempDir()
	assert.Equal(t, digestIn(a, "cache"), digestIn(b, "cache"))
	assert.NotEqual(t, digestIn(a, "cache"), digestIn(a, "other"), "the directory itself still counts")
}

// TestSpecDigestPathFreeSecrets: secret files and ssh key paths count relative to the spec,
// and where archc ran from (source ranges) does not count at all.
func TestSpecDigestPathFreeSecrets(t *testing.T) {
	t.Parallel()
	digestIn := func(dir, file string, line int) digest.Digest {
		s := projectSpec(t, dir)
		rng := hcl.Range{Filename: filepath.Join(dir, "archbuild.hcl"), Start: hcl.Pos{Line: line}}
		s.Secrets = []spec.Secret{{ID: "tok", File: filepath.Join(dir, file), Range: rng}}
		s.SSH = []spec.SSH{{ID: "default", Paths: []string{filepath.Join(dir, "keys", "id")}, Range: rng}}
		d, err := SpecDigest(s)
		require.NoError(t, err)
		return d
	}
	a, b := t.TempDir(), t.TempDir()
	assert.Equal(t, digestIn(a, "tok.txt", 3), digestIn(b, "tok.txt", 7))
	assert.NotEqual(t, digestIn(a, "tok.txt", 3), digestIn(a, "other.txt", 3), "the file itself still counts")
}

// TestSpecDigestLeavesSpecAlone: the digest rewrites paths in a copy; the caller's spec
// (string slices included, which the range-free copy shares) keeps its absolute paths.
func TestSpecDigestLeavesSpecAlone(t *testing.T) {
	t.Parallel()
	load := func() *spec.Spec {
		s, diags := spec.Load(spec.LoadOptions{Files: []string{"../testdata/spec/good/full.hcl"}})
		require.False(t, diags.HasErrors(), diags.Error())
		// Every kind of path the digest rewrites, and a range on each ranged block.
		require.NotEmpty(t, s.Registries)
		require.NotEmpty(t, s.Builders)
		require.NotEmpty(t, s.Secrets)
		require.NotEmpty(t, s.SSH)
		s.SSH[0].Paths = []string{filepath.Join(s.Dir, "keys", "id")}
		s.Components[0].CacheFrom = []string{"type=local,src=" + filepath.Join(s.Dir, "cache")}
		s.Components[0].Contexts = append(s.Components[0].Contexts,
			spec.NamedContext{Name: "extra", Path: filepath.Join(s.Dir, "extra"), Range: s.Components[0].Range})
		return s
	}
	s, before := load(), load() // two loads: a deep copy
	_, err := SpecDigest(s)
	require.NoError(t, err)
	assert.Equal(t, before, s)
}
