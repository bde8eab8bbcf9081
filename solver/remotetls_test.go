package solver

import (
	"errors"
	"testing"

	"github.com/moby/buildkit/client/connhelper"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

func TestRemoteHint(t *testing.T) {
	t.Parallel()
	withTLS := spec.Builder{Name: "arm", Address: "tcp://127.0.0.1:1234", CACert: "/ca.pem"}
	plain := spec.Builder{Name: "arm", Address: "tcp://127.0.0.1:1234"}
	tests := []struct {
		name string
		sb   spec.Builder
		err  string
		want string
	}{
		{"unknown authority", withTLS, `connection error: desc = "transport: authentication handshake failed: tls: failed to verify certificate: x509: certificate signed by unknown authority"`, `set ca_cert in builder "arm"`},
		{"wrong name", withTLS, `x509: certificate is valid for a.test, not b.test`, `set server_name in builder "arm"`},
		{"client cert required", withTLS, `error reading server preface: remote error: tls: certificate required`, `set cert and key in builder "arm"`},
		{"closed after the handshake", withTLS, `write tcp 127.0.0.1:1->127.0.0.1:1234: write: broken pipe`, `set cert and key in builder "arm"`},
		{"plain daemon, TLS client", withTLS, `tls: first record does not look like a TLS handshake`, "the daemon does not speak TLS"},
		{"refused, no TLS settings", plain, `dial tcp 127.0.0.1:1234: connect: connection refused`, "if buildkitd there uses TLS, set ca_cert, cert and key"},
		{"closed, no TLS settings", plain, `read: connection reset by peer`, "check the address and that buildkitd listens there"},
		{"ssh", spec.Builder{Name: "arm", Address: "ssh://ci@arm.invalid"}, `exec: "ssh": executable file not found in $PATH`, "buildctl must be on the remote PATH"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Contains(t, remoteHint(tc.sb, errors.New(tc.err)), tc.want)
		})
	}
}

// TestConnectionHelpers: every address scheme the spec accepts besides unix:// and tcp://
// (which buildkit's client dials itself) has a connection helper registered.
func TestConnectionHelpers(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"ssh://ci@arm.invalid:2222/run/buildkit/buildkitd.sock", "docker-container://buildkitd", "kube-pod://buildkitd-0"} {
		h, err := connhelper.GetConnectionHelper(addr)
		require.NoError(t, err, addr)
		assert.NotNil(t, h, "%s: no connection helper registered", addr)
	}
}
