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
