package solver

import "strings"

// daemonEnvKeep are the variables of archc's environment the local buildkitd inherits, each
// for a reason:
//   - PATH: buildkitd finds runc (and buildkit-qemu-* for emulated platforms) on it;
//   - TMPDIR: Go's os.TempDir, where buildkitd stages exports and content;
//   - XDG_RUNTIME_DIR: runc's state directory when it runs without root;
//   - SSL_CERT_FILE, SSL_CERT_DIR: the roots buildkitd verifies registries it pushes to
//     with, when a machine points Go at its own (a TLS-inspecting proxy's CA).
//
// Nothing else: ARCHC_VAR_* hold the spec's variables (secrets among them), DOCKER_CONFIG
// and HOME lead to credentials, and buildkitd needs neither (archc answers its auth
// requests through the session; its state, config and socket are flags). Proxy variables
// come from the spec alone (DaemonProxyEnv), so the daemon's proxy is what the spec and the
// config digest say, whatever archc happens to run with.
var daemonEnvKeep = []string{"PATH", "TMPDIR", "XDG_RUNTIME_DIR", "SSL_CERT_FILE", "SSL_CERT_DIR"}

// defaultPath is the daemon's PATH when archc runs without one.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// daemonEnv returns the local buildkitd's environment: the daemonEnvKeep variables of
// environ (archc's own, os.Environ()), then proxy (the spec's proxy variables, KEY=VALUE).
func daemonEnv(environ, proxy []string) []string {
	var env []string
	hasPath := false
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		for _, keep := range daemonEnvKeep {
			if k == keep {
				env = append(env, kv)
				hasPath = hasPath || k == "PATH"
			}
		}
	}
	if !hasPath {
		env = append(env, "PATH="+defaultPath)
	}
	return append(env, proxy...)
}
