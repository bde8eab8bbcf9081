// Command agentcheck proves, inside a `RUN --mount=type=ssh` step, that the forwarded agent
// answers and holds the key with the fingerprint given as its argument: it lists the
// agent's keys, has the agent sign a challenge with that key and verifies the signature.
// testSecretsAndSSH builds it static (busybox has no ssh-add).
package main

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "agentcheck:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 2 {
		return fmt.Errorf("usage: agentcheck SHA256:FINGERPRINT")
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		return fmt.Errorf("SSH_AUTH_SOCK is not set: no agent mounted")
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		return fmt.Errorf("dial agent %s: %w", sock, err)
	}
	defer conn.Close()
	a := agent.NewClient(conn)
	keys, err := a.List()
	if err != nil {
		return fmt.Errorf("list keys: %w", err)
	}
	for _, k := range keys {
		if ssh.FingerprintSHA256(k) != os.Args[1] {
			continue
		}
		challenge := make([]byte, 32)
		if _, err := rand.Read(challenge); err != nil {
			return err
		}
		sig, err := a.Sign(k, challenge)
		if err != nil {
			return fmt.Errorf("sign with %s: %w", os.Args[1], err)
		}
		if err := k.Verify(challenge, sig); err != nil {
			return fmt.Errorf("verify signature of %s: %w", os.Args[1], err)
		}
		fmt.Printf("agent holds %s and signs with it (%d keys)\n", os.Args[1], len(keys))
		return nil
	}
	return fmt.Errorf("agent has %d keys, not %s", len(keys), os.Args[1])
}
