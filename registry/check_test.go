package registry

import (
	"context"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckMirror(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	healthy := testenv.StartFaultProxy(t, reg.URL)
	blackhole := testenv.StartFaultProxy(t, reg.URL)
	blackhole.Set(testenv.Blackhole())
	notFound := testenv.StartFaultProxy(t, reg.URL)
	notFound.Set(testenv.Status(http.StatusNotFound, nil))
	ta := testenv.StartTokenAuth(t, reg.URL)
	refused := "http://" + testenv.ClosedAddr(t)

	tests := []struct {
		name    string
		mirror  string
		opts    []Option
		status  int
		realm   string
		class   Class  // 0: healthy
		errText string // in the error
	}{
		{name: "healthy", mirror: healthy.URL, status: http.StatusOK},
		{name: "401 names the token realm", mirror: ta.URL, status: http.StatusUnauthorized, realm: ta.Realm},
		{name: "404 is not a registry", mirror: notFound.URL, status: http.StatusNotFound, class: ClassNotFound, errText: "HTTP 404"},
		{name: "blackhole times out", mirror: blackhole.URL, opts: []Option{WithAttemptTimeout(300 * time.Millisecond)},
			class: ClassTimeout, errText: "mirror " + blackhole.URL + ": timed out after 300ms"},
		{name: "refused", mirror: refused, class: ClassTransient, errText: "mirror " + refused + ": connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			mh, err := CheckMirror(ctx, tt.mirror, nil, append([]Option{WithDialContext(loopbackOnly)}, tt.opts...)...)
			require.NotNil(t, mh)
			assert.Equal(t, tt.mirror, mh.URL)
			assert.Equal(t, "http", mh.Scheme)
			assert.False(t, mh.Proxied)
			assert.Equal(t, tt.status, mh.Status)
			assert.Equal(t, tt.realm, mh.AuthRealm)
			if tt.class == 0 {
				require.NoError(t, err)
				return
			}
			var he *HostError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tt.class, he.Class)
			assert.Contains(t, err.Error(), tt.errText)
			assert.Less(t, mh.Latency, 10*time.Second, "the attempt deadline, not the caller's, ended it")
		})
	}
}

// TestCheckMirrorProxy: a mirror whose name only the proxy knows is checked through the
// spec's proxy; no_proxy sends the check direct (where the name does not resolve). The
// proxy's counters say which way each went.
func TestCheckMirrorProxy(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	const secret = "pr0xy-s3cret"
	px := testenv.StartHTTPProxy(t, testenv.WithProxyAuth("alice", secret), testenv.WithHostOverride("mirror.invalid:80", reg.Host))
	const mirror = "http://mirror.invalid"
	check := func(p *spec.Proxy) (*MirrorHealth, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		return CheckMirror(ctx, mirror, &spec.Spec{Proxy: p}, WithDialContext(loopbackOnly))
	}

	mh, err := check(&spec.Proxy{HTTPProxy: px.URLWithAuth()})
	require.NoError(t, err)
	assert.True(t, mh.Proxied)
	assert.Equal(t, http.StatusOK, mh.Status)
	assert.Equal(t, 1, px.Forwarded("mirror.invalid:80"))

	mh, err = check(&spec.Proxy{HTTPProxy: px.URLWithAuth(), NoProxy: []string{".invalid"}})
	assert.False(t, mh.Proxied)
	var he *HostError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, ClassDNS, he.Class)
	assert.Equal(t, 1, px.Forwarded("mirror.invalid:80"), "no_proxy: the proxy saw nothing more")

	wrong := "http://alice:" + secret + "-wrong@" + px.Host
	mh, err = check(&spec.Proxy{HTTPProxy: wrong})
	require.Error(t, err)
	assert.True(t, mh.Proxied)
	assert.Equal(t, 1, px.AuthFailures())
	assert.Contains(t, err.Error(), "407")
	assert.NotContains(t, err.Error(), secret)
}

func TestDockerCredentials(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const secret = "d0cker-s3cret"
	auth := base64.StdEncoding.EncodeToString([]byte("alice:" + secret))
	cfg := `{"auths": {
  "https://index.docker.io/v1/": {"auth": "` + auth + `"},
  "127.0.0.1:5000": {"auth": "` + base64.StdEncoding.EncodeToString([]byte("bob:"+secret+"-2")) + `"},
  "ghcr.io": {"identitytoken": "` + secret + `-token"}
}}`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), []byte(cfg), 0o600))
	creds := dockerCredentials(dir)
	tests := []struct{ host, user, pass string }{
		{"registry-1.docker.io", "alice", secret},
		{"docker.io", "alice", secret},
		{"127.0.0.1:5000", "bob", secret + "-2"},
		{"ghcr.io", "", secret + "-token"},
		{"quay.io", "", ""},
	}
	for _, tt := range tests {
		user, pass, err := creds(tt.host)
		require.NoError(t, err, tt.host)
		assert.Equal(t, tt.user, user, tt.host)
		assert.Equal(t, tt.pass, pass, tt.host)
	}

	// A credential helper that is not installed fails the lookup, naming the host and
	// the fix, and nothing secret.
	broken := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(broken, "config.json"),
		[]byte(`{"auths": {"https://index.docker.io/v1/": {"auth": "`+auth+`"}}, "credHelpers": {"127.0.0.1:5000": "archc-test-missing"}}`), 0o600))
	_, _, err := dockerCredentials(broken)("127.0.0.1:5000")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "credentials for 127.0.0.1:5000 from the Docker config")
	assert.Contains(t, errAndHint(err), "hint: docker login 127.0.0.1:5000")
	assert.NotContains(t, err.Error(), secret)

	// An unreadable config is anonymous access, as for the docker CLI.
	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "config.json"), []byte(`{"auths": `+secret), 0o600))
	user, pass, err := dockerCredentials(bad)("127.0.0.1:5000")
	if err != nil {
		assert.NotContains(t, err.Error(), secret)
	} else {
		assert.Empty(t, user+pass)
	}
}
