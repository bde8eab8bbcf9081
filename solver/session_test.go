package solver

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

func TestProxyFunc(t *testing.T) {
	t.Parallel()
	assert.Nil(t, ProxyFunc(nil))
	f := ProxyFunc(&spec.Proxy{HTTPProxy: "http://127.0.0.1:3128", NoProxy: []string{"registry.internal", "127.0.0.2"}})
	tests := []struct {
		url  string
		want string
	}{
		{"http://auth.example.invalid/token", "http://127.0.0.1:3128"},
		{"http://registry.internal/v2/", ""},
		{"http://127.0.0.2:5000/v2/", ""},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		require.NoError(t, err)
		u, err := f(req)
		require.NoError(t, err)
		if tc.want == "" {
			assert.Nil(t, u, tc.url)
			continue
		}
		require.NotNil(t, u, tc.url)
		assert.Equal(t, tc.want, u.String(), tc.url)
	}
}
