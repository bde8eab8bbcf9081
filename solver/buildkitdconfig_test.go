package solver

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	bkconfig "github.com/moby/buildkit/cmd/buildkitd/config"
	"github.com/moby/buildkit/util/resolver/config"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateBuildkitdGolden = flag.Bool("update-buildkitd", false, "rewrite testdata/registry/buildkitd*.golden.toml")

func TestRenderBuildkitdConfigGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    *spec.Spec
	}{
		{"buildkitd-empty.golden.toml", &spec.Spec{}},
		{"buildkitd.golden.toml", &spec.Spec{
			Proxy: &spec.Proxy{HTTPProxy: "http://alice:s3cr3t@127.0.0.1:3128", HTTPSProxy: "http://alice:s3cr3t@127.0.0.1:3128",
				NoProxy: []string{"localhost", ".internal"}},
			Registries: []spec.Registry{
				{Host: "docker.io", Mirrors: []string{"http://127.0.0.1:5000", "https://mirror.example.net/dockerhub", "http://nexus.internal:8082/proxy"}},
				{Host: "nexus.internal:8082", Insecure: true, CA: "/etc/archc/nexus.pem"},
				{Host: "ghcr.io", Mirrors: []string{"https://127.0.0.1:5443"}, MirrorsOnly: true},
			},
		}},
		// The mirror does not inherit docker.io's insecure: the file says so.
		{"buildkitd-notes.golden.toml", &spec.Spec{
			Registries: []spec.Registry{
				{Host: "docker.io", Mirrors: []string{"https://mirror.example.net:5000"}, MirrorsOnly: true, Insecure: true},
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderBuildkitdConfig(tt.s)
			require.NoError(t, err)
			again, err := RenderBuildkitdConfig(tt.s)
			require.NoError(t, err)
			assert.Equal(t, got, again, "deterministic")
			assert.NotContains(t, string(got), "s3cr3t")
			path := filepath.Join("..", "testdata", "registry", tt.name)
			if *updateBuildkitdGolden {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test ./solver -run Buildkitd -update-buildkitd")
			assert.Equal(t, string(want), string(got))
		})
	}
}

func TestDaemonProxyEnv(t *testing.T) {
	t.Parallel()
	assert.Nil(t, DaemonProxyEnv(nil))
	env := DaemonProxyEnv(&spec.Proxy{HTTPSProxy: "http://p:1", NoProxy: []string{"a", "b"}})
	assert.Equal(t, []string{"HTTPS_PROXY=http://p:1", "https_proxy=http://p:1", "NO_PROXY=a,b", "no_proxy=a,b"}, env)
}

// TestBuildkitdConfigCacheAndPushHosts: a registry block whose host no base image uses,
// only cache refs and tags, is still rendered: the daemon pushes and pulls the cache (and
// pushes the images) itself, with these settings. A host without a block gets BuildKit's
// defaults (HTTPS; plain HTTP allowed for localhost).
func TestBuildkitdConfigCacheAndPushHosts(t *testing.T) {
	t.Parallel()
	s := &spec.Spec{
		Registries: []spec.Registry{
			{Host: "127.0.0.1:5001", HTTP: true},
			{Host: "cache.internal:8443", Insecure: true, CA: "/etc/archc/cache.pem"},
		},
		Components: []spec.Component{{
			Name:      "app",
			Tags:      []string{"127.0.0.1:5001/team/app:v1"},
			CacheFrom: []string{"type=registry,ref=cache.internal:8443/cache/app"},
			CacheTo:   []string{"type=registry,mode=max,ref=cache.internal:8443/cache/app"},
		}},
	}
	out, err := RenderBuildkitdConfig(s)
	require.NoError(t, err)
	assert.Contains(t, string(out), "  [registry.'127.0.0.1:5001']\n    http = true\n")
	assert.Contains(t, string(out), "  [registry.'cache.internal:8443']\n    insecure = true\n    ca = ['/etc/archc/cache.pem']\n")
}

// TestBuildkitdConfigEntitlements: buildkitd.toml allows every entitlement some component
// allows, as buildkitd's own config loader reads it; a spec without allow renders no key,
// so its builder's config (and digest) is what it was.
func TestBuildkitdConfigEntitlements(t *testing.T) {
	t.Parallel()
	s := &spec.Spec{
		Registries: []spec.Registry{{Host: "127.0.0.1:5001", HTTP: true}},
		Components: []spec.Component{
			{Name: "a", Allow: []string{"security.insecure", "network.host"}},
			{Name: "b", Allow: []string{"network.host"}},
			{Name: "c"},
		},
	}
	none := &spec.Spec{Registries: s.Registries, Components: []spec.Component{{Name: "c"}}}
	assert.Equal(t, []string{"network.host", "security.insecure"}, SpecEntitlements(s))
	assert.Nil(t, SpecEntitlements(none))

	got, err := RenderBuildkitdConfig(s)
	require.NoError(t, err)
	cfg, err := bkconfig.Load(bytes.NewReader(got))
	require.NoError(t, err, "%s", got)
	assert.Equal(t, []string{"network.host", "security.insecure"}, cfg.Entitlements)
	assert.True(t, *cfg.Registries["127.0.0.1:5001"].PlainHTTP, "the registry blocks still follow")

	plain, err := RenderBuildkitdConfig(none)
	require.NoError(t, err)
	assert.NotContains(t, string(plain), "entitlements")
	cfg, err = bkconfig.Load(bytes.NewReader(plain))
	require.NoError(t, err)
	assert.Empty(t, cfg.Entitlements)

	// What the local builder really runs with (LocalConfig), and its config digest: a change
	// to allow restarts it.
	c, _, err := LocalConfig(s)
	require.NoError(t, err)
	lc, err := bkconfig.Load(bytes.NewReader(c))
	require.NoError(t, err)
	assert.Equal(t, []string{"network.host", "security.insecure"}, lc.Entitlements)
	d1, err := DaemonConfigDigest(s)
	require.NoError(t, err)
	d2, err := DaemonConfigDigest(none)
	require.NoError(t, err)
	assert.NotEqual(t, d1, d2)
}

// TestBuildkitdConfigRegistriesRoundTrip: the registry tables of buildkitd.toml, as the
// local builder runs with it (LocalConfig) and as `archc builder config` prints it
// (RenderBuildkitdConfig), read back by buildkitd's own loader, are registry.RegistryConfig
// exactly: the daemon gets every host's mirrors, http, insecure and ca that archc's own
// resolver uses, whatever comments, proxy and entitlements come before them. And each
// host's table alone (RegistryBlock, what doctor tells a remote node to add) is the same
// text as in the file and reads back to that host's settings.
func TestBuildkitdConfigRegistriesRoundTrip(t *testing.T) {
	t.Parallel()
	s := &spec.Spec{
		Proxy: &spec.Proxy{HTTPSProxy: "http://127.0.0.1:3128", NoProxy: []string{".internal"}},
		Registries: []spec.Registry{
			{Host: "docker.io", Mirrors: []string{"http://127.0.0.1:5000", "https://mirror.example.net/dockerhub"}, MirrorsOnly: true},
			{Host: "127.0.0.1:5001", HTTP: true},
			{Host: "127.0.0.1:5443", CA: "/etc/archc/local.pem"},
			{Host: "cache.internal:8443", Insecure: true, CA: "/etc/archc/cache.pem"},
			{Host: "quiet.example.com"},
		},
		Components: []spec.Component{{Name: "app", Allow: []string{"network.host"}}},
	}
	want, err := registry.RegistryConfig(s)
	require.NoError(t, err)
	require.Len(t, want, 5, "docker.io, its http mirror, and the three blocks that set something")

	local, _, err := LocalConfig(s)
	require.NoError(t, err)
	printed, err := RenderBuildkitdConfig(s)
	require.NoError(t, err)
	for name, file := range map[string][]byte{"LocalConfig": local, "RenderBuildkitdConfig": printed} {
		cfg, err := bkconfig.Load(bytes.NewReader(file))
		require.NoError(t, err, "%s:\n%s", name, file)
		assert.Equal(t, want, cfg.Registries, "%s:\n%s", name, file)
	}

	for host, c := range want {
		block, err := RegistryBlock(host, c)
		require.NoError(t, err)
		assert.Contains(t, string(local), "\n"+block+"\n", "%s's block is the file's own text", host)
		cfg, err := bkconfig.Load(strings.NewReader(block))
		require.NoError(t, err, block)
		assert.Equal(t, map[string]config.RegistryConfig{host: c}, cfg.Registries, block)
	}
}

// TestRegistryBlock: one host's table, indented as in the file, without the [registry]
// line (a node's own file may already have one) or a trailing newline.
func TestRegistryBlock(t *testing.T) {
	t.Parallel()
	no := false
	got, err := RegistryBlock("10.0.0.5:5000", config.RegistryConfig{PlainHTTP: &no, RootCAs: []string{"certs/ca.pem"}})
	require.NoError(t, err)
	assert.Equal(t, "  [registry.'10.0.0.5:5000']\n    http = false\n    ca = ['certs/ca.pem']", got)
	got, err = RegistryBlock("h", config.RegistryConfig{})
	require.NoError(t, err)
	assert.Equal(t, "  [registry.h]", got)
}
