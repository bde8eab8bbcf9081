package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCacheEntry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		export bool
		want   string // normalized; "" when err is expected
		err    string
	}{
		{"type=registry,ref=127.0.0.1:5001/cache/app,mode=max", true, "type=registry,mode=max,ref=127.0.0.1:5001/cache/app", ""},
		{"type=registry,ref=127.0.0.1:5001/cache/app", false, "type=registry,ref=127.0.0.1:5001/cache/app", ""},
		{" type = registry , ref=r.invalid/c:a,mode=min,compression=zstd,oci-mediatypes=true,image-manifest=true,ignore-error=true", true,
			"type=registry,compression=zstd,ignore-error=true,image-manifest=true,mode=min,oci-mediatypes=true,ref=r.invalid/c:a", ""},
		{"type=registry,ref=busybox", false, "type=registry,ref=busybox", ""},
		{`"type=local","dest=/tmp/a,b"`, true, `type=local,"dest=/tmp/a,b"`, ""},
		{"type=local,src=/tmp/c,digest=sha256:abc", false, "type=local,digest=sha256:abc,src=/tmp/c", ""},
		{"type=local,dest=/tmp/c,mode=max", true, "type=local,dest=/tmp/c,mode=max", ""},
		{"type=inline", true, "type=inline", ""},
		{"TYPE=registry,REF=r.invalid/c", false, "type=registry,ref=r.invalid/c", ""},

		{"", false, "", "type is missing"},
		{"ref=r.invalid/c", false, "", "type is missing"},
		{"r.invalid/c", false, "", `"r.invalid/c" is not KEY=VALUE`},
		{"type=registry", true, "", "type=registry needs ref="},
		{"type=registry,ref=", true, "", "type=registry needs ref="},
		{"type=registry,ref=http://r.invalid/c", true, "", "invalid reference format"},
		{"type=registry,ref=r.invalid/c,mode=max", false, "", "mode is for cache_to"},
		{"type=registry,ref=r.invalid/c,mode=full", true, "", `mode "full" is not min or max`},
		{"type=registry,ref=a/b,ref=c/d", false, "", "ref is given twice"},
		{"type=registry,type=local", false, "", "type is given twice"},
		{"type=local,src=/x", true, "", "src is for cache_from"},
		{"type=local", false, "", "type=local needs src=DIR in cache_from"},
		{"type=inline", false, "", "type=inline is for cache_to"},
		{"type=gha,scope=x", true, "", `type "gha" is not one of registry, local, inline`},
		{"type=registry,=x", true, "", "has no key"},
		{`type="registry`, true, "", "not buildx's CSV form"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			e, err := ParseCacheEntry(tt.in, tt.export)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, e.String())
			again, err := ParseCacheEntry(e.String(), tt.export)
			require.NoError(t, err, "the normalized form parses")
			assert.Equal(t, e, again)
		})
	}
}

// TestCacheEntryPaths: only a local entry's directory is rewritten; the plan makes it
// relative, the solver absolute again.
func TestCacheEntryPaths(t *testing.T) {
	t.Parallel()
	s := &Spec{Dir: "/p"}
	rel := s.RelCacheEntries([]string{"type=local,dest=/p/out/cache", "type=registry,ref=r.invalid/c,mode=max", "type=local,dest=/elsewhere"}, true)
	assert.Equal(t, []string{"type=local,dest=out/cache", "type=registry,mode=max,ref=r.invalid/c", "type=local,dest=../elsewhere"}, rel)
	abs, err := CacheEntryPaths(rel[0], true, func(p string) string { return filepath.Join("/q", p) })
	require.NoError(t, err)
	assert.Equal(t, "type=local,dest=/q/out/cache", abs)
	assert.Equal(t, []string{}, s.RelCacheEntries(nil, false), "never nil: JSON shows []")
}

// TestCacheMerge: a later file's top-level default replaces the earlier one, and its
// relative directory resolves against the later file's directory.
func TestCacheMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(body), 0o644))
		return p
	}
	write("ctx/Dockerfile", "FROM scratch\n")
	a := write("a.hcl", "cache_to = [\"type=inline\"]\ncomponent \"c\" { context = \"ctx\" }\n")
	b := write("sub/b.hcl", "cache_to = [\"type=local,dest=cache\"]\n")
	s := mustLoad(t, LoadOptions{Files: []string{a, b}})
	assert.Equal(t, []string{"type=local,dest=" + filepath.Join(dir, "sub", "cache")}, s.Component("c").CacheTo)
}
