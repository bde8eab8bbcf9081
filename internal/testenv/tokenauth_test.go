package testenv

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// resolveVia resolves ref with containerd's docker resolver (what buildkit uses), sending the
// token fetch through authClient.
func resolveVia(ctx context.Context, ref string, authClient *http.Client, creds func(string) (string, string, error)) (string, error) {
	authOpts := []docker.AuthorizerOpt{docker.WithAuthClient(authClient)}
	if creds != nil {
		authOpts = append(authOpts, docker.WithAuthCreds(creds))
	}
	r := docker.NewResolver(docker.ResolverOptions{Hosts: docker.ConfigureDefaultRegistries(
		docker.WithPlainHTTP(docker.MatchAllHosts),
		docker.WithClient(&http.Client{Transport: &http.Transport{Proxy: nil}}),
		docker.WithAuthorizer(docker.NewDockerAuthorizer(authOpts...)),
	)})
	_, desc, err := r.Resolve(ctx, ref)
	return desc.Digest.String(), err
}

func TestTokenAuthOnlyThroughProxy(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t)
	img := PushTiny(t, reg, "library/tiny", "1")
	ta := StartTokenAuth(t, reg.URL)
	proxy := StartHTTPProxy(t, WithProxyAuth("proxyuser", "s3cret"), WithHostOverride(DefaultRealmHost, ta.TokenHost))
	ref := ta.Host + "/library/tiny:1"

	proxyURL, err := url.Parse(proxy.URLWithAuth())
	require.NoError(t, err)
	viaProxy := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(proxyURL)}}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	got, err := resolveVia(ctx, ref, viaProxy, nil)
	require.NoError(t, err)
	assert.Equal(t, img.Index.String(), got)
	assert.Equal(t, 1, ta.TokensIssued())
	assert.Equal(t, 1, proxy.Forwarded(DefaultRealmHost))
	assert.Positive(t, ta.Unauthorized())

	// Without the proxy the realm is unreachable: the classic "failed to fetch oauth token".
	// A dialer that refuses everything stands in for "no route", so no DNS query leaves.
	noRoute := &http.Client{Transport: &http.Transport{Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return nil, &url.Error{Op: "dial", URL: addr, Err: context.DeadlineExceeded}
		}}}
	_, err = resolveVia(ctx, ref, noRoute, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "failed to fetch")
}

func TestTokenAuthCredentials(t *testing.T) {
	t.Parallel()
	reg := StartRegistry(t)
	img := PushTiny(t, reg, "team/app", "v1")
	ta := StartTokenAuth(t, reg.URL, WithDirectRealm(), WithTokenCredentials("alice", "pw"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	direct := &http.Client{Transport: &http.Transport{Proxy: nil}}
	ref := ta.Host + "/team/app:v1"

	got, err := resolveVia(ctx, ref, direct, func(string) (string, string, error) { return "alice", "pw", nil })
	require.NoError(t, err)
	assert.Equal(t, img.Index.String(), got)

	_, err = resolveVia(ctx, ref, direct, func(string) (string, string, error) { return "alice", "wrong", nil })
	require.Error(t, err)
	assert.Positive(t, ta.TokensDenied())
}
