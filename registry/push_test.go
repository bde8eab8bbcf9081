package registry

import (
	"context"
	"testing"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// TestPushHostsReuseClientAndToken: containerd asks for the hosts on every Resolve, and
// archc makes a resolver per tag; each host's client (its connections) and authorizer (its
// tokens) are built once, so three tag HEADs through three resolvers fetch one token.
func TestPushHostsReuseClientAndToken(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	ta := testenv.StartTokenAuth(t, sd.reg.URL, testenv.WithDirectRealm())
	s := &spec.Spec{Registries: []spec.Registry{{Host: ta.Host, HTTP: true}}}
	hosts, err := PushHosts(s, func(string) (string, string, error) { return "", "", nil })
	require.NoError(t, err)

	first, err := hosts(ta.Host)
	require.NoError(t, err)
	require.Len(t, first, 1, "only the registry itself accepts pushes")
	again, err := hosts(ta.Host)
	require.NoError(t, err)
	require.Len(t, again, 1)
	assert.Same(t, first[0].Client, again[0].Client, "one client per host: its connections are reused")
	assert.Same(t, first[0].Authorizer, again[0].Authorizer, "one authorizer per host: its tokens are reused")

	for range 3 {
		r := docker.NewResolver(docker.ResolverOptions{Hosts: hosts})
		_, desc, err := r.Resolve(context.Background(), ta.Host+"/library/busybox:1.36")
		require.NoError(t, err)
		assert.Equal(t, sd.img.Index, desc.Digest)
	}
	assert.Equal(t, 1, ta.TokensIssued(), "the token is fetched once")
	assert.Equal(t, 1, ta.Unauthorized(), "one challenge, then the token is sent up front")
}
