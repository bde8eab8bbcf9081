package registry

import (
	"context"
	"strings"
	"testing"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestResolveTokenRealmBehindProxy is the classic `failed to fetch oauth token` case: the
// mirror answers 401 with a token realm (auth.archc.test) that only the proxy can reach.
// Through the spec's proxy the token is fetched and the image resolves; without the proxy
// the error is classified and names the token server, and no secret appears anywhere.
func TestResolveTokenRealmBehindProxy(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	const secret = "t0ken-s3cret"
	ta := testenv.StartTokenAuth(t, sd.reg.URL, testenv.WithTokenCredentials("alice", secret))
	px := testenv.StartHTTPProxy(t, testenv.WithHostOverride(testenv.DefaultRealmHost, ta.TokenHost))
	creds := WithCredentials(func(string) (string, string, error) { return "alice", secret, nil })
	var logged strings.Builder
	logf := WithLogf(func(f string, a ...any) { logged.WriteString(Redact(f) + "\n") })
	withProxy := mirrorSpec(true, ta.URL)
	withProxy.Proxy = &spec.Proxy{HTTPProxy: px.URL, HTTPSProxy: px.URL}

	im, err := newTestResolver(t, withProxy, creds, logf).Resolve(context.Background(), "busybox:1.36", both)
	require.NoError(t, err)
	assert.Equal(t, sd.img.Index, im.Digest)
	assert.Equal(t, 1, ta.TokensIssued())
	assert.Equal(t, 1, px.Forwarded(testenv.DefaultRealmHost), "the token came through the proxy")
	assert.Equal(t, 0, px.Forwarded(ta.Host), "the loopback mirror itself is not proxied")

	_, err = newTestResolver(t, mirrorSpec(true, ta.URL), creds, logf).Resolve(context.Background(), "busybox:1.36", both)
	require.Error(t, err)
	var re *ResolveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ClassDNS, re.Class())
	assert.Equal(t, 1, re.Hosts[0].Attempts, "a name that does not exist is not retried")
	assert.Contains(t, err.Error(), "mirror "+ta.URL+": token server auth.archc.test: no such host (DNS)")
	assert.Contains(t, errAndHint(err), "hint: ")
	assert.Equal(t, 1, ta.TokensIssued(), "no token without the proxy")
	assert.Contains(t, errAndHint(err), "hint: the registry hands out pull tokens from auth.archc.test")
	assert.NotContains(t, err.Error(), secret)

	// Through the proxy with a wrong password: the token server's 401 is an auth failure,
	// not retried, and the hint is to log in.
	wrong := WithCredentials(func(string) (string, string, error) { return "alice", secret + "-wrong", nil })
	_, err = newTestResolver(t, withProxy, wrong, logf).Resolve(context.Background(), "busybox:1.36", both)
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ClassAuth, re.Class())
	assert.Equal(t, 1, re.Hosts[0].Attempts)
	assert.Equal(t, 2, ta.TokensDenied(), "containerd's OAuth POST, then its fallback GET with basic auth")
	assert.Contains(t, err.Error(), "token server auth.archc.test: HTTP 401")
	assert.Contains(t, errAndHint(err), "hint: log in")
	assert.NotContains(t, err.Error(), secret)
	assert.NotContains(t, logged.String(), secret)
}
