package doctor

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// TestClientTLS: doctor's probes take a registry block's TLS settings as the resolver
// does (registry.NewHTTPClient): a self-signed registry is reached with insecure = true or
// its CA, refused with neither; a CA file that cannot be used is named relative to the spec.
func TestClientTLS(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	front := testenv.StartTLSFront(t, reg.URL)
	caPEM, err := os.ReadFile(front.CAFile)
	require.NoError(t, err)
	tests := []struct {
		name    string
		block   string
		ca      string // contents of certs/ca.pem
		wantErr string // from building the client
		reaches bool
	}{
		{name: "CA without PEM", block: `ca = "certs/ca.pem"`, ca: "not a certificate",
			wantErr: "registry " + front.Host + ": CA certs/ca.pem: no PEM certificate found"},
		{name: "CA", block: `ca = "certs/ca.pem"`, ca: string(caPEM), reaches: true},
		{name: "insecure", block: `insecure = true`, reaches: true},
		{name: "nothing set", block: ``, reaches: false},
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
			body := "registry \"" + front.Host + "\" {\n  " + tc.block + "\n}\ncomponent \"app\" {\n  context = \"./app\"\n}\n"
			require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(body), 0o644))
			s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
			require.False(t, diags.HasErrors(), diags.Error())

			e := newEnv(s, testOptions(t, s.Dir))
			c, err := e.client(front.Host)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Equal(t, tc.wantErr, err.Error())
				return
			}
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := get(ctx, c, http.MethodGet, front.URL+"/v2/", nil)
			if !tc.reaches {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "certificate")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}
