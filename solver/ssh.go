package solver

import (
	"fmt"
	"net"
	"os"
	"time"

	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/sshforward/sshprovider"

	"github.com/archc-dev/archc/spec"
)

// agentDialTimeout bounds the check that an agent socket answers.
const agentDialTimeout = 2 * time.Second

// sshAgents is the sshforward session serving ids: each ssh block's paths (agent sockets
// or private keys), or the agent at SSH_AUTH_SOCK (through lookup) for a block without
// paths. An agent that is not there is an error now, at apply time, naming the id: an
// unset SSH_AUTH_SOCK, a socket nobody listens on (a stale agent's file), a key file that
// cannot be read or parsed (a passphrase-protected key among them).
func sshAgents(s *spec.Spec, ids []string, lookup Lookup) (session.Attachable, error) {
	confs := make([]sshprovider.AgentConfig, 0, len(ids))
	for _, id := range ids {
		var block *spec.SSH
		for i := range s.SSH {
			if s.SSH[i].ID == id {
				block = &s.SSH[i]
			}
		}
		if block == nil {
			return nil, fmt.Errorf("ssh %q: the spec has no ssh %q block", id, id)
		}
		paths := append([]string(nil), block.Paths...)
		if len(paths) == 0 {
			sock, _ := lookup("SSH_AUTH_SOCK")
			if sock == "" {
				return nil, fmt.Errorf("ssh %q: no agent: SSH_AUTH_SOCK is not set (start ssh-agent and ssh-add a key, or give the block paths = [...])", id)
			}
			paths = []string{sock}
		}
		for _, p := range paths {
			if err := checkAgentPath(p); err != nil {
				return nil, fmt.Errorf("ssh %q: %w", id, err)
			}
		}
		confs = append(confs, sshprovider.AgentConfig{ID: id, Paths: paths})
	}
	a, err := sshprovider.NewSSHAgentProvider(confs)
	if err != nil {
		return nil, fmt.Errorf("ssh: %w", err)
	}
	return a, nil
}

// checkAgentPath says why path cannot serve as an agent: missing, or a socket that does not
// answer. Key files are read and parsed by sshprovider itself.
func checkAgentPath(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("agent or key %s: %w", path, unwrapPathError(err))
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil
	}
	c, err := net.DialTimeout("unix", path, agentDialTimeout)
	if err != nil {
		return fmt.Errorf("agent at %s does not answer (is ssh-agent still running?): %w", path, err)
	}
	return c.Close()
}
