package solver

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/moby/buildkit/session/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// TestAuthFetchTokenThroughSpecProxy: the token realm resolves only through the spec's
// proxy (as auth.docker.io behind a corporate proxy); archc's session must get there.
func TestAuthFetchTokenThroughSpecProxy(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(upstream.Close)
	// docker/cli reads DOCKER_CONFIG once per process: one directory for every case.
	dockerDir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dockerDir)
	tests := []struct {
		name      string
		user      string
		proxied   bool
		wantError string
	}{
		{name: "anonymous through the proxy", proxied: true},
		{name: "with docker config credentials", user: "alice", proxied: true},
		{name: "without a proxy the realm is unreachable", wantError: "fetch token for"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var opts []testenv.TokenOption
			if tc.user != "" {
				opts = append(opts, testenv.WithTokenCredentials(tc.user, "s3cret"))
			}
			tok := testenv.StartTokenAuth(t, upstream.URL, opts...)
			px := testenv.StartHTTPProxy(t, testenv.WithHostOverride(testenv.DefaultRealmHost, tok.TokenHost))
			cfg := `{"auths":{}}`
			if tc.user != "" {
				cfg = `{"auths":{"` + tok.Host + `":{"auth":"` + base64.StdEncoding.EncodeToString([]byte(tc.user+":s3cret")) + `"}}}`
			}
			require.NoError(t, os.WriteFile(filepath.Join(dockerDir, "config.json"), []byte(cfg), 0o600))
			s := &spec.Spec{}
			if tc.proxied {
				s.Proxy = &spec.Proxy{HTTPProxy: px.URL, HTTPSProxy: px.URL}
			}
			a, err := NewAuth(s, nil)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := a.FetchToken(ctx, &auth.FetchTokenRequest{
				Host: tok.Host, Realm: tok.Realm, Service: tok.Service,
				Scopes: []string{"repository:library/busybox:pull"},
			})
			if tc.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantError)
				assert.Contains(t, err.Error(), "auth.archc.test")
				assert.NotContains(t, err.Error(), "s3cret")
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, resp.Token)
			assert.Equal(t, 1, tok.TokensIssued())
			assert.Equal(t, 0, tok.TokensDenied())
			assert.Equal(t, 1, px.Forwarded(testenv.DefaultRealmHost)+px.Connects(testenv.DefaultRealmHost))
		})
	}
}
