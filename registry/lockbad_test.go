package registry

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// TestReadLockHostile: a lock is read from a checkout anyone with write access to a pull
// request can change. Binary data, deep nesting and an oversized file are one located
// error, never a crash (a Go stack overflow cannot be recovered), a hang or a flood.
func TestReadLockHostile(t *testing.T) {
	t.Parallel()
	binary := make([]byte, 2<<20)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	for _, tc := range []struct {
		name string
		src  []byte
		want string
	}{
		{"binary", binary, "not a text file"},
		{"deep nesting", []byte("x = " + strings.Repeat("[", 100_000)), "nest"},
		{"oversized", []byte("# " + strings.Repeat("x", spec.MaxSourceSize) + "\n"), "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "archbuild.lock.hcl")
			require.NoError(t, os.WriteFile(path, tc.src, 0o644))
			_, err := ReadLock(path)
			require.Error(t, err)
			var le *LockError
			require.True(t, errors.As(err, &le), "%T: %v", err, err)
			msg := err.Error()
			assert.Contains(t, strings.ToLower(msg), tc.want)
			assert.Contains(t, msg, "archbuild.lock.hcl")
			assert.Less(t, len(msg), 4096, "one short error, not a flood")
			assert.NotContains(t, msg, "\x1b")
		})
	}
}
