package registry

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConnectRefusalNamesProxy: a CONNECT the proxy refuses is classified as the proxy's
// answer, named without its credentials and with its Proxy-Agent, also when the transport
// is wrapped (the HTTPS-first fallback of an insecure plain-HTTP host).
func TestConnectRefusalNamesProxy(t *testing.T) {
	t.Parallel()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Proxy-Agent", "corp-gw")
		http.Error(w, "denied", http.StatusForbidden)
	}))
	t.Cleanup(proxy.Close)
	host := strings.TrimPrefix(proxy.URL, "http://")
	s := &spec.Spec{Proxy: &spec.Proxy{HTTPSProxy: "http://user:secret@" + host}}
	o, err := makeOptions([]Option{WithDialContext(loopbackOnly)})
	require.NoError(t, err)
	tc := newTransportConfig(s, o, nil)
	tests := []struct {
		name string
		rt   http.RoundTripper
	}{
		{"transport", tc.newTransport(nil)},
		{"behind the HTTP fallback", docker.NewHTTPFallback(tc.newTransport(nil))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodGet, "https://registry.invalid/v2/", nil)
			require.NoError(t, err)
			_, err = tc.client(tt.rt, nil, "").RoundTrip(req)
			require.Error(t, err)
			got := classify(err, context.Background(), context.Background(), 0)
			assert.Equal(t, "http://"+host+" (corp-gw)", got.proxy)
			assert.Equal(t, `the proxy http://`+host+` answered "Forbidden" instead of connecting to registry.invalid`, got.msg)
			assert.NotContains(t, got.msg+got.proxy, "secret")
		})
	}
}
