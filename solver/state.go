package solver

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
)

// maxSocketPath keeps unix socket paths under the kernel's sun_path limit (108 bytes).
const maxSocketPath = 100

// StateDir is the directory of one local builder: $XDG_STATE_HOME/archc/builders/NAME
// (falling back to ~/.local/state/archc/builders/NAME).
type StateDir string

// StateDirFor returns the state directory of the local builder called name.
func StateDirFor(name string) (StateDir, error) {
	root, err := stateRoot()
	if err != nil {
		return "", err
	}
	return StateDir(filepath.Join(root, "builders", name)), nil
}

// stateRoot is archc's state directory ($XDG_STATE_HOME/archc): the builders' state, the
// push records and the affinity memory live under it.
func stateRoot() (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("locate state directory: neither XDG_STATE_HOME nor HOME is set: %w", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "archc"), nil
}

// Config is the buildkitd.toml the daemon was started with.
func (d StateDir) Config() string { return filepath.Join(string(d), "buildkitd.toml") }

// Log is where the daemon's stdout and stderr go.
func (d StateDir) Log() string { return filepath.Join(string(d), "buildkitd.log") }

// PID holds the daemon's process id.
func (d StateDir) PID() string { return filepath.Join(string(d), "buildkitd.pid") }

// Digest holds the digest of the config and environment the daemon was started with.
func (d StateDir) Digest() string { return filepath.Join(string(d), "config.digest") }

// Root is buildkitd's --root: its cache and metadata.
func (d StateDir) Root() string { return filepath.Join(string(d), "root") }

// Lock is held shared by every archc run using this builder and exclusive by one starting,
// restarting or stopping it (runLock).
func (d StateDir) Lock() string { return filepath.Join(string(d), "lock") }

// Runs holds one marker file per archc run using the builder, named PID-N.
func (d StateDir) Runs() string { return filepath.Join(string(d), "runs") }

// Socket is the daemon's unix socket. When the state directory is too deep for a unix
// socket path, the socket goes to the temp dir under a name derived from the directory.
func (d StateDir) Socket() string {
	p := filepath.Join(string(d), "buildkitd.sock")
	if len(p) <= maxSocketPath {
		return p
	}
	sum := sha256.Sum256([]byte(d))
	return filepath.Join(os.TempDir(), "archc-"+hex.EncodeToString(sum[:8])+".sock")
}

// Address is the daemon's address for the buildkit client.
func (d StateDir) Address() string { return "unix://" + d.Socket() }
