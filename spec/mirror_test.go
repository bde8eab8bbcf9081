package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMirrorWithoutScheme: a mirror written as buildkitd.toml writes it ("host:port") is
// told to add a scheme, not that it is "not a URL"; a value that may hold credentials is
// not echoed.
func TestMirrorWithoutScheme(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"127.0.0.1:5055", `no scheme: add http:// or https:// in front, "http://127.0.0.1:5055" for plain HTTP or "https://127.0.0.1:5055" for TLS`},
		{"mirror.local/v2-cache/", `no scheme: add http:// or https:// in front, "http://mirror.local/v2-cache" for plain HTTP or "https://mirror.local/v2-cache" for TLS`},
		{"bob:S3CRET@mirror.local:5000", "no scheme: add http:// (plain HTTP) or https:// in front of the host"},
	}
	for _, tt := range tests {
		_, err := checkMirror(tt.in)
		require.Error(t, err, tt.in)
		assert.Equal(t, tt.want, err.Error())
		assert.NotContains(t, err.Error(), "S3CRET")
	}
	got, err := checkMirror("http://127.0.0.1:5055/")
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:5055", got)
}

// TestMirrorWithoutSchemeInSpec: the diagnostic points at the mirror and says what to add.
func TestMirrorWithoutSchemeInSpec(t *testing.T) {
	t.Parallel()
	f := filepath.Join(t.TempDir(), "archbuild.hcl")
	require.NoError(t, os.WriteFile(f, []byte("registry \"docker.io\" {\n  mirrors = [\"127.0.0.1:5055\"]\n}\n"), 0o644))
	_, diags := Load(LoadOptions{Files: []string{f}})
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags.Error(), `Invalid mirror URL; "127.0.0.1:5055": no scheme: add http:// or https://`)
	assert.Contains(t, diags.Error(), "archbuild.hcl:2,")
	assert.NotContains(t, diags.Error(), "not a URL")
}
