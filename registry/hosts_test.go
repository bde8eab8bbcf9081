package registry

import (
	"net/http"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/util/resolver/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func bp(b bool) *bool { return &b }

func TestRegistryConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		regs []spec.Registry
		want map[string]config.RegistryConfig
	}{
		{"none", nil, map[string]config.RegistryConfig{}},
		{
			"http mirror gets its own block", []spec.Registry{{Host: "docker.io", Mirrors: []string{"http://127.0.0.1:5000"}}},
			map[string]config.RegistryConfig{
				"docker.io":      {Mirrors: []string{"127.0.0.1:5000"}},
				"127.0.0.1:5000": {PlainHTTP: bp(true)},
			},
		},
		{
			"path and order kept; https loopback mirror stays https", []spec.Registry{{Host: "docker.io", Mirrors: []string{
				"https://mirror.example.net/dockerhub/", "https://127.0.0.1:5443", "mirror2.example.net"}}},
			map[string]config.RegistryConfig{
				"docker.io":      {Mirrors: []string{"mirror.example.net/dockerhub", "127.0.0.1:5443", "mirror2.example.net"}},
				"127.0.0.1:5443": {PlainHTTP: bp(false)},
			},
		},
		{
			"mirror declared as a registry keeps its settings", []spec.Registry{
				{Host: "docker.io", Mirrors: []string{"http://nexus.internal:8082/v2-proxy"}},
				{Host: "nexus.internal:8082", Insecure: true, CA: "/etc/ca.pem"},
			},
			map[string]config.RegistryConfig{
				"docker.io":           {Mirrors: []string{"nexus.internal:8082/v2-proxy"}},
				"nexus.internal:8082": {PlainHTTP: bp(true), Insecure: bp(true), RootCAs: []string{"/etc/ca.pem"}},
			},
		},
		{
			"a loopback registry with a CA speaks TLS", []spec.Registry{{Host: "127.0.0.1:5443", CA: "/etc/ca.pem"}, {Host: "localhost:5444", Insecure: true}},
			map[string]config.RegistryConfig{
				"127.0.0.1:5443": {PlainHTTP: bp(false), RootCAs: []string{"/etc/ca.pem"}},
				"localhost:5444": {Insecure: bp(true)}, // BuildKit: https, falling back to http
			},
		},
		{
			"registry settings", []spec.Registry{{Host: "r.internal:5000", HTTP: true}, {Host: "docker.io", MirrorsOnly: true}},
			map[string]config.RegistryConfig{"r.internal:5000": {PlainHTTP: bp(true)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RegistryConfig(&spec.Spec{Registries: tt.regs})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRegistryConfigBadMirror(t *testing.T) {
	t.Parallel()
	_, err := RegistryConfig(&spec.Spec{Registries: []spec.Registry{{Host: "docker.io", Mirrors: []string{"ftp://user:secret@m"}}}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "docker.io")
	assert.NotContains(t, err.Error(), "secret")
}

func TestRegistryHostsOrder(t *testing.T) {
	t.Parallel()
	conf, err := RegistryConfig(&spec.Spec{Registries: []spec.Registry{
		{Host: "docker.io", Mirrors: []string{"http://127.0.0.1:5000/x", "https://m.example.net"}},
	}})
	require.NoError(t, err)
	tc := transportConfig{proxy: ProxyFunc(nil)}
	id := func(rt http.RoundTripper, _ string) http.RoundTripper { return rt }
	hs, err := registryHosts(conf, nil, "docker.io", tc, id)
	require.NoError(t, err)
	require.Len(t, hs, 3)
	assert.Equal(t, []string{"http://127.0.0.1:5000/x", "https://m.example.net", "registry-1.docker.io"},
		[]string{hs[0].label, hs[1].label, hs[2].label})
	assert.Equal(t, "/v2/x", hs[0].host.Path)
	assert.Equal(t, "http", hs[0].host.Scheme)
	assert.Equal(t, "https", hs[1].host.Scheme)

	only, err := registryHosts(conf, map[string]bool{"docker.io": true}, "docker.io", tc, id)
	require.NoError(t, err)
	assert.Len(t, only, 2, "mirrors_only: no upstream")

	other, err := registryHosts(conf, nil, "127.0.0.1:5001", tc, id)
	require.NoError(t, err)
	require.Len(t, other, 1)
	assert.Equal(t, "http", other[0].host.Scheme, "loopback defaults to plain HTTP, as in BuildKit")
}

func TestProxyFunc(t *testing.T) {
	t.Parallel()
	p := &spec.Proxy{HTTPProxy: "http://u:pw@127.0.0.1:3128", HTTPSProxy: "http://u:pw@127.0.0.1:3129", NoProxy: []string{".internal", "example.org", "10.1.2.3"}}
	f := ProxyFunc(p)
	tests := []struct{ url, want string }{
		{"https://registry-1.docker.io/v2/", "127.0.0.1:3129"},
		{"http://mirror.example.net/v2/", "127.0.0.1:3128"},
		{"https://nexus.internal:8082/v2/", ""},
		{"https://example.org/v2/", ""},
		{"http://10.1.2.3:5000/v2/", ""},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		require.NoError(t, err)
		u, err := f(req)
		require.NoError(t, err)
		if tt.want == "" {
			assert.Nil(t, u, tt.url)
		} else {
			require.NotNil(t, u, tt.url)
			assert.Equal(t, tt.want, u.Host, tt.url)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "https://docker.io/", nil)
	u, err := ProxyFunc(nil)(req)
	require.NoError(t, err)
	assert.Nil(t, u, "no proxy block: the environment is not consulted")

	all := ProxyFunc(&spec.Proxy{AllProxy: "socks5://127.0.0.1:1080", HTTPSProxy: "http://127.0.0.1:3129"})
	for url, want := range map[string]string{"http://mirror.example.net/v2/": "socks5://127.0.0.1:1080", "https://ghcr.io/v2/": "http://127.0.0.1:3129"} {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		u, err := all(req)
		require.NoError(t, err)
		require.NotNil(t, u, url)
		assert.Equal(t, want, u.String(), "all_proxy is the fallback of http_proxy and https_proxy: %s", url)
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	assert.Equal(t, `proxyconnect http://xxxxx@127.0.0.1:3128: refused`, Redact(`proxyconnect http://alice:s3cr3t@127.0.0.1:3128: refused`))
	assert.Equal(t, "no url here", Redact("no url here"))
}
