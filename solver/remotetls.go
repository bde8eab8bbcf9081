package solver

import (
	"fmt"
	"strings"

	"github.com/moby/buildkit/client"

	"github.com/archc-dev/archc/spec"
)

// remoteTLSOpts are the client options of a tcp:// builder block's TLS settings: TLS as
// soon as any of them is set, the block's CA or else the system's roots (buildkit's
// WithServerConfig with no CA would trust nothing), and the client key pair.
func remoteTLSOpts(sb spec.Builder) []client.ClientOpt {
	if !strings.HasPrefix(sb.Address, "tcp://") || sb.CACert == "" && sb.Cert == "" && sb.Key == "" && sb.ServerName == "" {
		return nil
	}
	var opts []client.ClientOpt
	if sb.CACert != "" {
		opts = append(opts, client.WithServerConfig(sb.ServerName, sb.CACert))
	} else {
		opts = append(opts, client.WithServerConfigSystem(sb.ServerName))
	}
	if sb.Cert != "" || sb.Key != "" {
		opts = append(opts, client.WithCredentials(sb.Cert, sb.Key))
	}
	return opts
}

// remoteHint is what to do about a failed connection to a builder block: for a TLS
// failure, which of the block's settings to fix. The cause arrives as gRPC's text (the
// handshake's error inside "connection error: desc = ..."), so it is read as text.
func remoteHint(sb spec.Builder, err error) string {
	msg := err.Error()
	has := func(s ...string) bool {
		for _, x := range s {
			if strings.Contains(msg, x) {
				return true
			}
		}
		return false
	}
	block := fmt.Sprintf("builder %q", sb.Name)
	switch {
	case has("could not read ca certificate", "failed to append ca certs"):
		return fmt.Sprintf("ca_cert in %s must be a readable PEM file", block)
	case has("could not read certificate/key"):
		return fmt.Sprintf("cert and key in %s must be a readable PEM key pair that belong together", block)
	case has("x509: certificate signed by unknown authority"):
		return fmt.Sprintf("the daemon's certificate is not signed by the CA you trust: set ca_cert in %s to the CA that signed buildkitd's --tlscert", block)
	case has("x509: certificate is valid for", "x509: cannot validate certificate"):
		return fmt.Sprintf("the daemon's certificate is not valid for the name connected to: set server_name in %s to a name in its certificate", block)
	case has("tls: certificate required", "tls: bad certificate", "tls: unknown certificate authority"),
		// TLS 1.3: the daemon rejects the client's certificate after the client thinks the
		// handshake is done, so the client may only see the connection close.
		remoteTLSOpts(sb) != nil && has("broken pipe", "connection reset", "EOF"):
		return fmt.Sprintf("buildkitd wants a client certificate signed by its --tlscacert: set cert and key in %s", block)
	case has("first record does not look like a TLS handshake"):
		return fmt.Sprintf("the daemon does not speak TLS: remove ca_cert, cert, key and server_name from %s, or start buildkitd with --tlscert/--tlskey", block)
	case has("x509:", "tls:"):
		return fmt.Sprintf("TLS failed: check ca_cert, cert, key and server_name in %s against buildkitd's --tlscacert, --tlscert and --tlskey", block)
	}
	hint := "check the address and that buildkitd listens there; `archc builder status` shows what answers"
	if strings.HasPrefix(sb.Address, "ssh://") {
		return hint + "; ssh:// runs `ssh [-l USER] [-p PORT] HOST buildctl [--addr unix://PATH] dial-stdio`: " +
			"the ssh client must log in without a prompt (keys or an agent) and buildctl must be on the remote PATH"
	}
	if strings.HasPrefix(sb.Address, "tcp://") && sb.CACert == "" && sb.Cert == "" {
		hint += "; if buildkitd there uses TLS, set ca_cert, cert and key"
	}
	return hint
}
