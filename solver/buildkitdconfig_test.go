package solver

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/spec"
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
