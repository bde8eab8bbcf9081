package compiler

import (
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/solver/pb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// entitledDockerfile needs network.host on line 2 and security.insecure on line 4.
const entitledDockerfile = `FROM busybox
RUN --network=host wget -q -O- http://127.0.0.1:5000/v2/
RUN echo plain
RUN --security=insecure mount -t tmpfs none /mnt
`

func TestEntitlementsAreCheckedAtPlanTime(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		allow   []string
		network string
		want    []string // in the error; nil: no error
		notWant []string
		ents    []string
	}{
		{name: "none allowed", want: []string{
			"compile web/linux/amd64: " + ErrNotAllowed.Error() + ":\n",
			"Dockerfile:2 (RUN --network=host wget -q -O- http://127.0.0.1:5000/v2/) needs entitlement network.host: add allow = [\"network.host\"] to component web",
			"Dockerfile:4 (RUN --security=insecure mount -t tmpfs none /mnt) needs entitlement security.insecure: add allow = [\"security.insecure\"] to component web",
		}},
		{name: "one allowed", allow: []string{"network.host"}, want: []string{"Dockerfile:4 ", `allow = ["security.insecure"]`}, notWant: []string{"Dockerfile:2"}},
		{name: "both allowed", allow: []string{"security.insecure", "network.host"}, ents: []string{"network.host", "security.insecure"}},
		{name: "network host attribute", allow: []string{"security.insecure"}, network: "host", want: []string{`network = "host" needs entitlement network.host: add allow = ["network.host"] to component web`}, notWant: []string{"Dockerfile:3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := compileRun(t, entitledDockerfile, func(c *spec.Component) { c.Allow, c.Network = tt.allow, tt.network })
			if tt.want == nil {
				require.NoError(t, err)
				assert.Equal(t, tt.ents, b.Entitlements)
				return
			}
			require.ErrorIs(t, err, ErrNotAllowed)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, w := range tt.notWant {
				assert.NotContains(t, err.Error(), w)
			}
		})
	}
}

func TestNetworkHostWithAllowRunsEveryStepOnTheHost(t *testing.T) {
	t.Parallel()
	b, err := compileRun(t, runDockerfile, func(c *spec.Component) { c.Network, c.Allow = "host", []string{"network.host"} })
	require.NoError(t, err)
	for _, e := range execs(t, b.Definition) {
		assert.Equal(t, pb.NetMode_HOST, e.Network)
	}
	assert.Equal(t, []string{"network.host"}, b.Entitlements)
	ops, err := decodeOps(b.Definition)
	require.NoError(t, err)
	assert.Equal(t, []string{"network.host"}, opsEntitlements(ops), "what apply grants: the definition's own needs")

	// allow alone grants nothing the steps do not use.
	plain, err := compileRun(t, runDockerfile, func(c *spec.Component) { c.Allow = []string{"network.host", "security.insecure"} })
	require.NoError(t, err)
	assert.Nil(t, plain.Entitlements)
}
