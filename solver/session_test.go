package solver

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/moby/buildkit/session/auth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// TestTokenRealmTLSIsDecidedPerHost: a token realm behind a self-signed certificate is
// refused unless the spec gives that realm's host insecure or its CA; a registry elsewhere
// that is insecure or has a CA does not relax it (credentials must not go to
// auth.docker.io unverified because some in-house registry is insecure).
func TestTokenRealmTLSIsDecidedPerHost(t *testing.T) {
	upstream := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(upstream.Close)
	tok := testenv.StartTokenAuth(t, upstream.URL)
	front := testenv.StartTLSFront(t, "http://"+tok.TokenHost)
	realm := front.URL + "/token"
	tests := []struct {
		name       string
		registries []spec.Registry
		wantError  string
	}{
		{name: "no settings: refused", wantError: "certificate"},
		{name: "another registry insecure: still refused", wantError: "certificate",
			registries: []spec.Registry{{Host: "nexus.invalid:8443", Insecure: true}}},
		{name: "another registry's CA: still refused", wantError: "certificate",
			registries: []spec.Registry{{Host: "other.invalid", CA: front.CAFile}}},
		{name: "a registry insecure whose mirror is the realm host: still refused", wantError: "certificate",
			registries: []spec.Registry{{Host: "docker.io", Insecure: true, Mirrors: []string{front.URL}}}},
		{name: "realm host insecure", registries: []spec.Registry{{Host: front.Host, Insecure: true}}},
		{name: "realm host's CA", registries: []spec.Registry{{Host: front.Host, CA: front.CAFile}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewAuth(&spec.Spec{Registries: tc.registries}, nil)
			require.NoError(t, err)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := a.FetchToken(ctx, &auth.FetchTokenRequest{
				Host: tok.Host, Realm: realm, Service: tok.Service,
				Scopes: []string{"repository:library/busybox:pull"},
			})
			if tc.wantError != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantError)
				assert.Contains(t, err.Error(), front.Host)
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, resp.Token)
		})
	}
}
