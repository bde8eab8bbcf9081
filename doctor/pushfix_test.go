package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/moby/buildkit/util/resolver/config"
	"github.com/stretchr/testify/assert"
)

// refusedFix is how nodeConfigFix's fix for refused credentials begins.
const refusedFix = "the registry refused the credentials archc passes through the session"

// TestAuthStatus: a 401 or 403 counts only as a status, never inside a blob digest (a
// digest holding "403" once made a plain-HTTP push failure read as refused credentials).
func TestAuthStatus(t *testing.T) {
	t.Parallel()
	e := &env{}
	for cause, want := range map[string]bool{
		"unexpected status from HEAD request to http://h/v2/a/blobs/sha256:1d6c16040331d9b7: 400 Bad Request": false,
		"unexpected status from PUT request to https://h/v2/a/manifests/x: 401 Unauthorized":                  true,
		"403 Forbidden":   true,
		"status 403":      true,
		"sha256:ab403cd0": false,
	} {
		fix := e.nodeConfigFix("h", errors.New(cause))
		assert.Equal(t, want, strings.HasPrefix(fix, refusedFix), "%s: %s", cause, fix)
	}
}

// TestNodeConfigFix: the fix for a failed write probe follows registry's reading of the
// error (Classify, IsPlainHTTP), and the scheme the node spoke. Its block is rendered as
// the local builder's buildkitd.toml is (solver.RegistryBlock: TOML literal strings).
func TestNodeConfigFix(t *testing.T) {
	t.Parallel()
	yes := true
	e := &env{conf: map[string]config.RegistryConfig{
		"10.0.0.5:5000": {RootCAs: []string{"certs/ca.pem"}},
		"10.0.0.6:5000": {PlainHTTP: &yes},
	}}
	tests := []struct {
		name, host, err, want, block string
	}{
		{name: "denied", host: "10.0.0.5:5000", err: "failed to push 10.0.0.5:5000/app: errors:\ndenied: requested access to the resource is denied",
			want: refusedFix + ": `docker login 10.0.0.5:5000` on this machine"},
		{name: "untrusted", host: "10.0.0.5:5000", err: `failed to do request: Head "https://10.0.0.5:5000/v2/a/blobs/sha256:1d6c": tls: failed to verify certificate: x509: certificate signed by unknown authority`,
			want: "the node does not trust 10.0.0.5:5000's certificate: ", block: `ca = ['certs/ca.pem']`},
		{name: "plain HTTP server", host: "10.0.0.6:5000", err: `failed to do request: Head "https://10.0.0.6:5000/v2/": http: server gave HTTP response to HTTPS client`,
			want: "10.0.0.6:5000 speaks plain HTTP and the node tried https: ", block: "http = true"},
		{name: "loopback spoken to in plain HTTP", host: "127.0.0.1:5443", err: "unexpected status from HEAD request to http://127.0.0.1:5443/v2/a/blobs/sha256:1d6c16040331d9b7: 400 Bad Request",
			want: "127.0.0.1:5443 speaks https and the node tried plain HTTP: ", block: "http = false"},
		{name: "HTTP to an HTTPS port", host: "10.0.0.6:5000", err: `failed to do request: Head "http://10.0.0.6:5000/v2/": Client sent an HTTP request to an HTTPS server.`,
			want: "10.0.0.6:5000 speaks https and the node tried plain HTTP: ", block: "http = true"},
		{name: "something else", host: "10.0.0.5:5000", err: "failed to push: short write",
			want: "a remote builder reaches registries with its own buildkitd.toml, not the spec's: add\n  [registry.'10.0.0.5:5000']\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fix := e.nodeConfigFix(tc.host, errors.New(tc.err))
			assert.True(t, strings.HasPrefix(fix, tc.want), fix)
			assert.Contains(t, fix, tc.block)
		})
	}
}
