package registry

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDockerConfigPath: config.json in $DOCKER_CONFIG, read on each call.
func TestDockerConfigPath(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	assert.Equal(t, filepath.Join(dir, "config.json"), DockerConfigPath())
}

// TestLoadDockerConfig: a named config is parsed as the Docker CLI does (proxies, auths); a
// missing one is fs.ErrNotExist, a broken one an error naming the file but quoting nothing
// from it.
func TestLoadDockerConfig(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-pw"
	write := func(t *testing.T, content string) string {
		p := filepath.Join(t.TempDir(), "config.json")
		require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
		return p
	}
	t.Run("proxies", func(t *testing.T) {
		t.Parallel()
		p := write(t, `{"auths": {"r.example": {"auth": "dTpwdw=="}}, "proxies": {"default": {"httpProxy": "http://a:`+secret+`@p:1", "httpsProxy": "http://p:2", "noProxy": "localhost", "allProxy": "socks5://p:3"}}}`)
		cf, err := LoadDockerConfig(p)
		require.NoError(t, err)
		assert.Equal(t, p, cf.Filename)
		d := cf.Proxies["default"]
		assert.Equal(t, []string{"http://a:" + secret + "@p:1", "http://p:2", "localhost", "socks5://p:3"},
			[]string{d.HTTPProxy, d.HTTPSProxy, d.NoProxy, d.AllProxy})
		assert.Equal(t, "pw", cf.AuthConfigs["r.example"].Password)
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		_, err := LoadDockerConfig(filepath.Join(t.TempDir(), "none.json"))
		assert.ErrorIs(t, err, fs.ErrNotExist)
	})
	for name, content := range map[string]string{
		"syntax":   `{"proxies": {"default": {"httpProxy": "http://a:` + secret + `@p:1"}`,
		"type":     `{"proxies": {"default": {"httpProxy": ["http://a:` + secret + `@p:1"]}}}`,
		"bad auth": `{"auths": {"r.example": {"auth": "` + secret + `!"}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := write(t, content)
			_, err := LoadDockerConfig(p)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "parse "+p)
			assert.NotContains(t, err.Error(), secret)
			assert.NotErrorIs(t, err, fs.ErrNotExist)
		})
	}
}
