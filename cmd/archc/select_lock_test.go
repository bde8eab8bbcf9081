package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildPlatformProject writes a spec whose one component (built for linux/amd64 only)
// compiles in a FROM --platform=$BUILDPLATFORM stage: its golang base is needed for the
// build platform, whatever the targets. extra is added at the top of the spec.
func buildPlatformProject(t *testing.T, mirror, extra string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte(
		"FROM --platform=$BUILDPLATFORM golang:1.22 AS build\nRUN echo built > /out\nFROM alpine:3.20\nCOPY --from=build /out /out\n"), 0o644))
	spec := fmt.Sprintf(`%s
platforms = ["linux/amd64"]

registry "docker.io" {
  mirrors      = [%q]
  mirrors_only = true
}

component "app" {
  context = "./app"
}
`, extra, mirror)
	specPath := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(specPath, []byte(spec), 0o644))
	return specPath, filepath.Join(t.TempDir(), "cache")
}

// TestLockPinsEveryBuildPlatform: with build_platforms, archc lock pins the bases of
// $BUILDPLATFORM stages for each, so plan --locked passes on a runner of either; without,
// a lock written on amd64 fails plan --locked on arm64 with an error that names the fix.
func TestLockPinsEveryBuildPlatform(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	golang := testenv.PushTiny(t, reg, "library/golang", "1.22", "linux/amd64", "linux/arm64")
	testenv.PushTiny(t, reg, "library/alpine", "3.20", "linux/amd64", "linux/arm64")
	const goRef, alRef = "docker.io/library/golang:1.22", "docker.io/library/alpine:3.20"

	t.Run("declared", func(t *testing.T) {
		t.Parallel()
		specPath, cacheDir := buildPlatformProject(t, reg.URL, `build_platforms = ["linux/amd64", "linux/arm64"]`)
		// No --build-platform: the declared ones, whatever this machine is.
		code, _, errs := runArchc("lock", specPath, "--cache-dir", cacheDir)
		require.Equal(t, exitOK, code, errs)
		lock, _ := readLock(t, specPath)
		require.NotNil(t, lock.Find(goRef))
		for _, p := range []string{"linux/amd64", "linux/arm64"} {
			pi := lock.Find(goRef).Platform(p)
			require.NotNil(t, pi, "golang pinned for build platform %s", p)
			assert.Equal(t, golang.Platforms[p].Manifest, pi.Manifest)
		}
		require.NotNil(t, lock.Find(alRef))
		assert.Len(t, lock.Find(alRef).Platforms, 1, "the target's base: linux/amd64 only")

		for _, bp := range []string{"linux/arm64", "linux/amd64"} {
			code, out, errs := runArchc("plan", specPath, "--cache-dir", cacheDir, "--locked", "--build-platform", bp)
			require.Equal(t, exitOK, code, "%s: %s", bp, errs)
			assert.Contains(t, out, goRef+"@"+golang.Platforms[bp].Manifest.String()+" "+bp)
		}
	})

	t.Run("undeclared", func(t *testing.T) {
		t.Parallel()
		specPath, cacheDir := buildPlatformProject(t, reg.URL, "")
		code, _, errs := runArchc("lock", specPath, "--cache-dir", cacheDir, "--build-platform", "linux/amd64")
		require.Equal(t, exitOK, code, errs)
		lock, _ := readLock(t, specPath)
		require.NotNil(t, lock.Find(goRef))
		require.Nil(t, lock.Find(goRef).Platform("linux/arm64"), "without build_platforms: the given build platform only")

		code, _, errs = runArchc("plan", specPath, "--cache-dir", cacheDir, "--locked", "--build-platform", "linux/arm64")
		assert.Equal(t, exitFailure, code, errs)
		assert.Contains(t, errs, "missing "+goRef+" (linux/arm64)")
		assert.Contains(t, errs, "need pins for the build platform, linux/arm64, and the lock was written for linux/amd64")
		assert.Contains(t, errs, `hint: set build_platforms = ["linux/amd64", "linux/arm64"] in the spec, run archc lock`)
		assert.Contains(t, errs, "or pass --build-platform linux/amd64, the build platform the lock has")
		assert.NotContains(t, errs, "hint: run `archc lock` and commit", "archc lock alone would not mend it")

		code, _, errs = runArchc("plan", specPath, "--cache-dir", cacheDir, "--locked", "--build-platform", "linux/amd64")
		assert.Equal(t, exitOK, code, errs)
	})

	t.Run("declared but not locked again", func(t *testing.T) {
		t.Parallel()
		specPath, cacheDir := buildPlatformProject(t, reg.URL, "")
		code, _, errs := runArchc("lock", specPath, "--cache-dir", cacheDir, "--build-platform", "linux/amd64")
		require.Equal(t, exitOK, code, errs)
		dt, err := os.ReadFile(specPath)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(specPath, append([]byte(`build_platforms = ["linux/amd64", "linux/arm64"]`+"\n"), dt...), 0o644))
		code, _, errs = runArchc("plan", specPath, "--cache-dir", cacheDir, "--locked", "--build-platform", "linux/arm64")
		assert.Equal(t, exitFailure, code, errs)
		assert.Contains(t, errs, "hint: run `archc lock` and commit archbuild.lock.hcl\n", "the spec is right; the lock is behind")
	})
}
