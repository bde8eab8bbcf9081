package solver

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// TestLocalBuilderEnvironment starts a real buildkitd from an archc that holds a secret
// variable, a Docker config and a proxy of its own: the daemon gets none of them, only
// PATH and the spec's proxy.
func TestLocalBuilderEnvironment(t *testing.T) {
	state, ctx := localBuilderTest(t, "env")
	t.Setenv("ARCHC_VAR_TOKEN", "s3cret-token")
	t.Setenv("DOCKER_CONFIG", filepath.Join(state, "docker"))
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:7")

	var out bytes.Buffer
	opts := LocalOptions{Name: "env", Config: []byte("debug = false\n"), Out: &out,
		Env: DaemonProxyEnv(&spec.Proxy{HTTPSProxy: "http://127.0.0.1:3128"})}
	b, err := EnsureLocal(ctx, opts)
	require.NoError(t, err, out.String())
	defer b.Close()
	pid := runningPID(StateDir(filepath.Join(state, "archc", "builders", "env")))
	require.NotZero(t, pid)

	raw, err := os.ReadFile(filepath.Join("/proc", itoa(pid), "environ"))
	require.NoError(t, err)
	var names []string
	for _, kv := range strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00") {
		k, _, _ := strings.Cut(kv, "=")
		names = append(names, k)
	}
	assert.NotContains(t, string(raw), "s3cret-token")
	assert.NotContains(t, names, "ARCHC_VAR_TOKEN")
	assert.NotContains(t, names, "DOCKER_CONFIG")
	assert.NotContains(t, names, "HOME")
	assert.NotContains(t, string(raw), "127.0.0.1:7\x00", "archc's own proxy is not the daemon's")
	assert.Contains(t, names, "PATH")
	assert.Contains(t, string(raw), "HTTPS_PROXY=http://127.0.0.1:3128\x00")
	assert.Contains(t, string(raw), "https_proxy=http://127.0.0.1:3128\x00")
	_, err = b.Client.Info(ctx)
	assert.NoError(t, err, "the daemon runs with that environment")
}
