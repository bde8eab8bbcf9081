package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
)

const tamperSpec = `
platforms = ["linux/amd64", "linux/arm64"]
registry "docker.io" {
  mirrors      = ["%[1]s"]
  mirrors_only = true
}
registry "%[2]s" { http = true }
component "c" {
  context = "./c"
  tags    = ["%[2]s/tamper/c:v1"]
}
`

// testLockTampered: a lock edited to build something else (the linux/amd64 and
// linux/arm64 manifests swapped under an unchanged index, or a manifest of another
// repository) is refused by every command that uses it, located in the lock file and
// saying what the index lists, and nothing is pushed or written.
func testLockTampered(t *testing.T, e *env, reg registryClient) {
	dir := e.customProject(t, tamperSpec, map[string]string{"c/Dockerfile": "FROM busybox\nRUN uname -m > /built.txt\n"})
	lockPath := filepath.Join(dir, registry.LockFileName)
	r := e.run(t, dir, "lock")
	require.Equal(t, 0, r.code, r.stderr)
	goodBytes, err := os.ReadFile(lockPath)
	require.NoError(t, err)
	good := string(goodBytes)
	lock, err := registry.ParseLock(goodBytes, registry.LockFileName)
	require.NoError(t, err)
	bb := lock.Find("busybox")
	require.NotNil(t, bb)
	amd, arm := bb.Platform("linux/amd64"), bb.Platform("linux/arm64")
	require.NotNil(t, amd)
	require.NotNil(t, arm)

	refused := func(t *testing.T, tampered, amdManifest string, want ...string) {
		t.Helper()
		require.NoError(t, os.WriteFile(lockPath, []byte(tampered), 0o644))
		// The amd64 block comes first; its manifest line is the one the error points at.
		line := lineOf(tampered, `manifest = "`+amdManifest+`"`)
		require.Positive(t, line)
		for _, args := range [][]string{
			{"apply", "--locked", "--progress=plain"},
			{"apply", "--progress=plain"},
			{"plan"},
			{"plan", "--locked"},
			{"doctor", "--connect-target", e.push.Host},
		} {
			r := e.run(t, dir, args...)
			out := r.stdout + r.stderr
			assert.NotEqual(t, 0, r.code, args)
			assert.Contains(t, out, fmt.Sprintf("archbuild.lock.hcl:%d:16", line), args)
			assert.Contains(t, out, "Manifest not listed for linux/amd64 in the pinned index", args)
			for _, w := range want {
				assert.Contains(t, out, w, args)
			}
			assert.Contains(t, out, "archc lock --update --image docker.io/library/busybox:latest", args)
			now, err := os.ReadFile(lockPath)
			require.NoError(t, err)
			assert.Equal(t, tampered, string(now), "%v: the lock is left as it was", args)
			assert.False(t, reg.exists(t, "tamper/c", "v1"), "%v: nothing was pushed", args)
		}
	}

	t.Run("swapped platform manifests", func(t *testing.T) {
		swapped := strings.NewReplacer(amd.Manifest.String(), arm.Manifest.String(), arm.Manifest.String(), amd.Manifest.String()).Replace(good)
		refused(t, swapped, arm.Manifest.String(),
			"linux/amd64 manifest "+arm.Manifest.String()+" is listed in index "+bb.Digest.String()+" under linux/arm64; the index lists "+amd.Manifest.String()+" for linux/amd64.")
	})

	t.Run("a manifest of another repository", func(t *testing.T) {
		other := testenv.PushTiny(t, e.mirror, "library/other", "1")
		foreign := other.Platforms["linux/amd64"].Manifest.String()
		tampered := strings.Replace(good, amd.Manifest.String(), foreign, 1)
		refused(t, tampered, foreign,
			"linux/amd64 manifest "+foreign+" is not listed in index "+bb.Digest.String()+"; the index lists "+amd.Manifest.String()+" for linux/amd64.")
	})

	t.Run("the lock as archc wrote it is accepted", func(t *testing.T) {
		require.NoError(t, os.WriteFile(lockPath, goodBytes, 0o644))
		r := e.run(t, dir, "plan", "--locked")
		assert.Equal(t, 0, r.code, r.stderr)
	})
}

// lineOf is the 1-based line of the first line of s containing sub, or 0.
func lineOf(s, sub string) int {
	for i, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			return i + 1
		}
	}
	return 0
}
