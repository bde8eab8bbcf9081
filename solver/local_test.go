package solver

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

func TestConfigDigest(t *testing.T) {
	t.Parallel()
	base := ConfigDigest([]byte("a"), []string{"HTTP_PROXY=x", "NO_PROXY=y"})
	assert.Equal(t, base, ConfigDigest([]byte("a"), []string{"NO_PROXY=y", "HTTP_PROXY=x"}), "env order must not matter")
	assert.NotEqual(t, base, ConfigDigest([]byte("b"), []string{"HTTP_PROXY=x", "NO_PROXY=y"}), "config change")
	assert.NotEqual(t, base, ConfigDigest([]byte("a"), []string{"HTTP_PROXY=z", "NO_PROXY=y"}), "proxy change")
	assert.True(t, strings.HasPrefix(base, "sha256:"))
}

func TestStateDirFor(t *testing.T) {
	short := t.TempDir()
	t.Setenv("XDG_STATE_HOME", short)
	d, err := StateDirFor("local")
	assert.NoError(t, err)
	assert.Equal(t, filepath.Join(short, "archc", "builders", "local"), string(d))
	assert.Equal(t, filepath.Join(string(d), "buildkitd.sock"), d.Socket())

	deep := filepath.Join(short, strings.Repeat("d", 120))
	t.Setenv("XDG_STATE_HOME", deep)
	d, err = StateDirFor("local")
	assert.NoError(t, err)
	assert.LessOrEqual(t, len(d.Socket()), maxSocketPath+20)
	assert.True(t, strings.HasPrefix(d.Address(), "unix://"))
}

func TestWithoutProxyEnv(t *testing.T) {
	t.Parallel()
	got := withoutProxyEnv([]string{"PATH=/bin", "http_proxy=x", "HTTPS_PROXY=y", "no_proxy=z", "HOME=/root"})
	assert.Equal(t, []string{"PATH=/bin", "HOME=/root"}, got)
}

// withoutProxyEnv drops the proxy variables from env: a test daemon must not reach its
// registry through a proxy the machine happens to set.
func withoutProxyEnv(env []string) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func TestDaemonEnv(t *testing.T) {
	t.Parallel()
	proxy := DaemonProxyEnv(&spec.Proxy{HTTPSProxy: "http://127.0.0.1:3128"})
	tests := []struct {
		name    string
		environ []string
		want    []string
	}{
		{
			name: "only what buildkitd needs, the spec's proxy last",
			environ: []string{"PATH=/opt/bin:/usr/bin", "HOME=/root", "ARCHC_VAR_TOKEN=s3cret", "DOCKER_CONFIG=/root/.docker",
				"TMPDIR=/var/tmp", "XDG_RUNTIME_DIR=/run/user/0", "SSL_CERT_FILE=/etc/ca.pem", "AWS_SECRET_ACCESS_KEY=k",
				"HTTPS_PROXY=http://archc-own:1", "no_proxy=*", "SSH_AUTH_SOCK=/tmp/agent", "PATHEXT=x"},
			want: append([]string{"PATH=/opt/bin:/usr/bin", "TMPDIR=/var/tmp", "XDG_RUNTIME_DIR=/run/user/0", "SSL_CERT_FILE=/etc/ca.pem"}, proxy...),
		},
		{
			name:    "a PATH even when archc has none",
			environ: []string{"ARCHC_VAR_X=1"},
			want:    append([]string{"PATH=" + defaultPath}, proxy...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, daemonEnv(tt.environ, proxy))
		})
	}
}

// TestEnsureLocalsInNameOrder: local builders are taken in name order whatever the spec's
// order (two runs never hold one builder each while waiting on the other), returned in
// the spec's order, and those taken are released when one fails.
func TestEnsureLocalsInNameOrder(t *testing.T) {
	t.Parallel()
	lbs := []spec.Builder{{Name: "b"}, {Name: "c"}, {Name: "a"}}
	var taken []string
	got, err := ensureLocals(lbs, func(lb spec.Builder) (*Builder, error) {
		taken = append(taken, lb.Name)
		return &Builder{Name: lb.Name}, nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b", "c"}, taken)
	var names []string
	for _, b := range got {
		names = append(names, b.Name)
	}
	assert.Equal(t, []string{"b", "c", "a"}, names)

	var released []string
	_, err = ensureLocals(lbs, func(lb spec.Builder) (*Builder, error) {
		if lb.Name == "c" {
			return nil, errors.New("c failed")
		}
		return &Builder{Name: lb.Name, release: func() { released = append(released, lb.Name) }}, nil
	})
	require.EqualError(t, err, "c failed")
	assert.ElementsMatch(t, []string{"a", "b"}, released)
}
