package doctor

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// TestClientTLS: doctor's probes take a registry block's TLS settings from
// registry.TLSConfig, and a CA file that cannot be used is named relative to the spec.
func TestClientTLS(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		block   string
		ca      string // contents of certs/ca.pem
		wantErr string
		check   func(t *testing.T, tr *http.Transport)
	}{
		{name: "CA without PEM", block: `ca = "certs/ca.pem"`, ca: "not a certificate",
			wantErr: "registry 127.0.0.1:5000: CA certs/ca.pem: no PEM certificate found"},
		{name: "insecure", block: `insecure = true`,
			check: func(t *testing.T, tr *http.Transport) { assert.True(t, tr.TLSClientConfig.InsecureSkipVerify) }},
		{name: "nothing set", block: ``,
			check: func(t *testing.T, tr *http.Transport) {
				assert.False(t, tr.TLSClientConfig.InsecureSkipVerify)
				assert.Nil(t, tr.TLSClientConfig.RootCAs)
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
			require.NoError(t, os.MkdirAll(filepath.Join(dir, "certs"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM busybox:1.36\n"), 0o644))
			if tc.ca != "" {
				require.NoError(t, os.WriteFile(filepath.Join(dir, "certs", "ca.pem"), []byte(tc.ca), 0o644))
			}
			body := "registry \"127.0.0.1:5000\" {\n  " + tc.block + "\n}\ncomponent \"app\" {\n  context = \"./app\"\n}\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(body), 0o644))
			s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
			require.False(t, diags.HasErrors(), diags.Error())

			e := newEnv(s, testOptions(t, s.Dir))
			c, err := e.client("127.0.0.1:5000")
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, err.Error())
				return
			}
			require.NoError(t, err)
			tr, ok := c.Transport.(*http.Transport)
			require.True(t, ok)
			tc.check(t, tr)
		})
	}
}
