package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// locateProject writes a spec whose docker.io images come only from mirror, with the
// components given as name → Dockerfile and extra attributes for each, and returns the
// spec path and a cache dir.
func locateProject(t *testing.T, mirror string, comps map[string][2]string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	hcl := fmt.Sprintf("platforms = [\"linux/amd64\", \"linux/arm64\"]\n\nregistry \"docker.io\" {\n  mirrors      = [%q]\n  mirrors_only = true\n}\n", mirror)
	for name, c := range comps {
		require.NoError(t, os.MkdirAll(filepath.Join(dir, name), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, name, "Dockerfile"), []byte(c[0]), 0o644))
		hcl += fmt.Sprintf("\ncomponent %q {\n  context = %q\n%s}\n", name, "./"+name, c[1])
	}
	specPath := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(specPath, []byte(hcl), 0o644))
	return specPath, filepath.Join(t.TempDir(), "cache")
}

// TestLockLocatesErrors: `archc lock` names the component and Dockerfile line of every
// base the mirror lacks, each once, with a hint about the tag and none about the lock,
// catches a contexts key typo as plan does, and lists the stages for an unknown target
// (once, though two platforms fail alike); it writes no lock.
func TestLockLocatesErrors(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	testenv.PushTiny(t, reg, "library/busybox", "1.36")
	for _, tc := range []struct {
		name  string
		comps map[string][2]string
		want  []string // each once in stderr
		not   []string
	}{
		{"two bad bases", map[string][2]string{
			"app": {"FROM busybox:1.36 AS ok\nFROM busybox:9.99\n", ""},
			"web": {"# syntax unused\nFROM nosuch:1\n", ""},
		}, []string{
			`component "app": app/Dockerfile:2: docker.io/library/busybox:9.99: `,
			`component "web": web/Dockerfile:2: docker.io/library/nosuch:1: `,
			"hint: check the image name and tag: the registry has no docker.io/library/busybox:9.99\n",
			"hint: check the image name and tag: the registry has no docker.io/library/nosuch:1\n",
		}, []string{"busybox:1.36", "lock --update"}},
		{"contexts typo", map[string][2]string{
			"api": {"FROM busybox:1.36\n", ""},
			"web": {"FROM busybox:1.36\nCOPY --from=api / /\n", "  contexts = { apii = component.api }\n"},
		}, []string{
			`component "web": contexts key "apii" (component.api) matches no FROM or --from of web/Dockerfile, which asks for "api": did you mean contexts = { api = ... }?`,
		}, []string{"docker.io/library/api:latest: "}},
		{"unknown target", map[string][2]string{
			"app": {"FROM busybox:1.36 AS build\nFROM busybox:1.36 AS runtime\n", "  target = \"runtmie\"\n"},
		}, []string{
			`app/Dockerfile: target stage "runtmie" could not be found: the Dockerfile's stages are build, runtime`,
			"hint: did you mean target = \"runtime\"?\n",
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			specPath, cacheDir := locateProject(t, reg.URL, tc.comps)
			code, out, errs := runArchc(lockArgs(specPath, cacheDir)...)
			assert.Equal(t, exitFailure, code, errs)
			assert.NotContains(t, out, "Wrote")
			for _, w := range tc.want {
				assert.Equal(t, 1, strings.Count(errs, w), "%q in:\n%s", w, errs)
			}
			for _, n := range tc.not {
				assert.NotContains(t, errs, n)
			}
			_, err := os.Stat(filepath.Join(filepath.Dir(specPath), registry.LockFileName))
			assert.True(t, os.IsNotExist(err), "no lock written")
		})
	}
}
