package solver

import (
	"context"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

const tlsServerName = "buildkitd.archc.test"

// startTLSBuildkitd starts bin/buildkitd listening only on tcp://127.0.0.1:PORT with TLS
// that requires a client certificate from ca, and stops it when the test ends.
func startTLSBuildkitd(t *testing.T, bin string, ca *testenv.CA, serverCert, serverKey string) string {
	t.Helper()
	return testenv.StartBuildkitd(t, bin, "tcp://"+testenv.ClosedAddr(t), "debug = false\n",
		"--tlscacert", ca.Path, "--tlscert", serverCert, "--tlskey", serverKey).Addr
}

// TestRemoteBuilderTLS connects archc's remote-builder code to a real buildkitd that serves
// TCP with TLS and requires client certificates: the spec's ca_cert, cert, key and
// server_name reach the client, and each way of getting them wrong fails naming the
// builder, its address and the TLS cause.
func TestRemoteBuilderTLS(t *testing.T) {
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	bin := testenv.Require(t, testenv.PartBuildkitd)
	dir := t.TempDir()
	ca := testenv.NewCA(t, dir, "archc-test")
	other := testenv.NewCA(t, dir, "someone-else")
	serverCert, serverKey := ca.Issue(t, "server", x509.ExtKeyUsageServerAuth, []string{tlsServerName}, []net.IP{net.IPv4(127, 0, 0, 1)})
	clientCert, clientKey := ca.Issue(t, "client", x509.ExtKeyUsageClientAuth, nil, nil)
	strangerCert, strangerKey := other.Issue(t, "stranger", x509.ExtKeyUsageClientAuth, nil, nil)
	addr := startTLSBuildkitd(t, bin, ca, serverCert, serverKey)

	good := spec.Builder{Name: "tls", Address: addr, CACert: ca.Path, Cert: clientCert, Key: clientKey, ServerName: tlsServerName}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("connects, lists workers, answers info", func(t *testing.T) {
		// The daemon may still be setting up its worker: retry until it answers.
		var b *Builder
		require.Eventually(t, func() bool {
			var err error
			b, err = ConnectRemote(ctx, good, 5*time.Second)
			if err != nil {
				t.Logf("not yet: %v", err)
			}
			return err == nil
		}, 60*time.Second, 500*time.Millisecond)
		defer b.Close()
		assert.Equal(t, "tls", b.Name)
		assert.Equal(t, addr, b.Address)
		assert.NotEmpty(t, b.WorkerPlatforms())
		st := RemoteStatus(ctx, good)
		require.NoError(t, st.Err)
		assert.True(t, st.Running)
		assert.NotEmpty(t, st.Version)
		assert.NotEmpty(t, st.Platforms)
	})

	noName := good
	noName.ServerName = ""
	wrongCA := good
	wrongCA.CACert = other.Path
	wrongName := good
	wrongName.ServerName = "elsewhere.archc.test"
	noClientCert := good
	noClientCert.Cert, noClientCert.Key = "", ""
	stranger := good
	stranger.Cert, stranger.Key = strangerCert, strangerKey
	missingCA := good
	missingCA.CACert = filepath.Join(dir, "missing.pem")
	plain := spec.Builder{Name: "tls", Address: addr}

	tests := []struct {
		name string
		sb   spec.Builder
		want []string // substrings of the error; none means it connects
	}{
		{"without server_name the address's IP is verified", noName, nil},
		{"wrong CA", wrongCA, []string{"certificate signed by unknown authority", `set ca_cert in builder "tls"`}},
		{"wrong server_name", wrongName, []string{"not elsewhere.archc.test", `set server_name in builder "tls"`}},
		// the cause is "tls: certificate required" or, when the daemon's alert loses the
		// race with the client's first write, a broken pipe: the hint is the same.
		{"no client certificate", noClientCert, []string{`set cert and key in builder "tls"`}},
		{"client certificate from another CA", stranger, []string{`set cert and key in builder "tls"`}},
		{"CA file missing", missingCA, []string{"missing.pem", `ca_cert in builder "tls" must be a readable PEM file`}},
		{"no TLS settings", plain, []string{"if buildkitd there uses TLS, set ca_cert, cert and key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := ConnectRemote(ctx, tc.sb, 5*time.Second)
			if tc.want == nil {
				require.NoError(t, err)
				assert.NotEmpty(t, b.WorkerPlatforms())
				b.Close()
				return
			}
			require.Error(t, err)
			msg := err.Error()
			t.Log(msg)
			assert.Contains(t, msg, `builder "tls"`)
			assert.Contains(t, msg, addr)
			hint := hintOf(err) // the fix is a hint, printed apart from the message
			for _, w := range tc.want {
				assert.Contains(t, msg+"\nhint: "+hint, w)
			}
		})
	}

	t.Run("without ca_cert the system's roots are trusted", func(t *testing.T) {
		// The system pool is loaded once per process: a child process gets our CA as
		// SSL_CERT_FILE.
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestRemoteBuilderTLSSystemRoots$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+ca.Path, "SSL_CERT_DIR="+dir,
			"ARCHC_TEST_TLS_BUILDER="+strings.Join([]string{addr, clientCert, clientKey, tlsServerName}, ","))
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Contains(t, string(out), "--- PASS: TestRemoteBuilderTLSSystemRoots", string(out))
	})
}

// TestRemoteBuilderTLSSystemRoots runs as TestRemoteBuilderTLS's child process (it is
// skipped otherwise): a builder block with cert, key and server_name but no ca_cert
// verifies the daemon against the system's roots, which SSL_CERT_FILE points at our CA.
func TestRemoteBuilderTLSSystemRoots(t *testing.T) {
	env := os.Getenv("ARCHC_TEST_TLS_BUILDER")
	if env == "" {
		t.Skip("run by TestRemoteBuilderTLS")
	}
	f := strings.Split(env, ",")
	require.Len(t, f, 4)
	sb := spec.Builder{Name: "tls", Address: f[0], Cert: f[1], Key: f[2], ServerName: f[3]}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := ConnectRemote(ctx, sb, 10*time.Second)
	require.NoError(t, err)
	defer b.Close()
	assert.NotEmpty(t, b.WorkerPlatforms())
}
