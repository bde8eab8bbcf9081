package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/compiler/compilertest"
	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const compilerTestdata = "../../testdata/compiler"

// planProject copies the compiler's test project into a temp dir and, with warm, writes a
// synthetic lock and content cache for it. It returns the spec path and the cache dir.
func planProject(t *testing.T, warm bool) (string, string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(compilerTestdata, "project"))))
	specPath := filepath.Join(dir, "archbuild.hcl")
	cacheDir := filepath.Join(t.TempDir(), "cache")
	if warm {
		s, diags := spec.Load(spec.LoadOptions{Files: []string{specPath}})
		require.False(t, diags.HasErrors(), diags.Error())
		_, err := compilertest.WarmLock(s, cacheDir, "linux/amd64")
		require.NoError(t, err)
	}
	return specPath, cacheDir
}

func planArgs(specPath, cacheDir string, more ...string) []string {
	return append([]string{"plan", specPath, "--cache-dir", cacheDir, "--build-platform", "linux/amd64"}, more...)
}

func TestPlanGolden(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	for _, format := range []string{"text", "json", "dot", "markdown"} {
		t.Run(format, func(t *testing.T) {
			code, out, errs := runArchc(planArgs(specPath, cacheDir, "--format", format)...)
			require.Equal(t, 0, code, errs)
			again, out2, _ := runArchc(planArgs(specPath, cacheDir, "--format", format)...)
			require.Equal(t, 0, again)
			assert.Equal(t, out, out2, "same inputs, same bytes")
			assert.NotContains(t, out+errs, "s3cr3t-pw")
			assert.NotContains(t, out, filepath.Dir(specPath), "no absolute paths")
			golden := filepath.Join(compilerTestdata, "cli", "plan."+format)
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./cmd/archc -run TestPlanGolden -update")
			assert.Equal(t, string(want), out)
		})
	}
}

func TestPlanCompare(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		edit     func(t *testing.T, dir string)
		code     int
		changed  []string
		textWant string
	}{
		{"no edit", func(*testing.T, string) {}, 0, nil, "No changes: 5 builds unchanged."},
		{"proxy and ignored file", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "archbuild.hcl")
			dt, err := os.ReadFile(p)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(p, []byte(strings.ReplaceAll(string(dt), "127.0.0.1:7890", "127.0.0.1:3128")), 0o644))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "base", "notes.bak"), []byte("edited"), 0o644))
		}, 0, nil, "No changes"},
		{"sent file", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "base", "hello.go"), []byte("package main\n"), 0o644))
		}, 2, []string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64"}, "~ base/linux/arm64 (llb_digest, contexts)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			specPath, cacheDir := planProject(t, true)
			old := filepath.Join(t.TempDir(), "old.json")
			code, out, errs := runArchc(planArgs(specPath, cacheDir, "--format", "json")...)
			require.Equal(t, 0, code, errs)
			require.NoError(t, os.WriteFile(old, []byte(out), 0o644))
			tc.edit(t, filepath.Dir(specPath))

			code, out, errs = runArchc(planArgs(specPath, cacheDir, "--compare", old, "--detailed-exitcode", "--format", "json")...)
			require.Equal(t, tc.code, code, errs)
			var d struct{ Added, Removed, Changed, Unchanged []string }
			require.NoError(t, json.Unmarshal([]byte(out), &d))
			assert.Empty(t, d.Added)
			assert.Empty(t, d.Removed)
			assert.Equal(t, len(tc.changed), len(d.Changed))
			if tc.changed != nil {
				assert.Equal(t, tc.changed, d.Changed)
			}
			code, out, _ = runArchc(planArgs(specPath, cacheDir, "--compare", old)...)
			assert.Equal(t, 0, code, "without --detailed-exitcode a change is not a failure")
			assert.Contains(t, out, tc.textWant)
		})
	}
}

func TestPlanOutSavesAPlanFile(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	out := filepath.Join(t.TempDir(), "plan.archc")
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--out", out)...)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "archc apply "+out)
	dt, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.NotContains(t, string(dt), "s3cr3t-pw")
}

func TestPlanUsageErrors(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	for _, args := range [][]string{
		planArgs(specPath, cacheDir, "--detailed-exitcode"),
		planArgs(specPath, cacheDir, "--format", "yaml"),
		planArgs(specPath, cacheDir, "--format", "dot", "--compare", specPath),
	} {
		code, _, errs := runArchc(args...)
		assert.Equal(t, exitUsage, code, "%v: %s", args, errs)
	}
}

func TestPlanLockedRefusesMissingPins(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, false)
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--locked")...)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errs, "--locked: archbuild.lock.hcl is out of date: missing docker.io/library/alpine:3.20 (linux/amd64)")
	assert.Contains(t, errs, "\nhint: run `archc lock` and commit archbuild.lock.hcl\n")
	assert.NoFileExists(t, filepath.Join(filepath.Dir(specPath), registry.LockFileName))
}

// TestPlanResolvesMissingPins runs plan without a lock against a loopback registry that
// plays the docker.io mirror: the pins are resolved, written, and reported.
func TestPlanResolvesMissingPins(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	want := map[string]testenv.Image{}
	for _, ref := range []string{"library/alpine:3.20", "library/golang:1.22", "library/busybox:1.36"} {
		repo, tag, _ := strings.Cut(ref, ":")
		want["docker.io/"+ref] = testenv.PushTiny(t, reg, repo, tag)
	}
	specPath, cacheDir := planProject(t, false)
	f, err := os.OpenFile(specPath, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("\nregistry \"docker.io\" {\n  mirrors      = [\"" + reg.URL + "\"]\n  mirrors_only = true\n}\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())

	code, out, errs := runArchc(planArgs(specPath, cacheDir)...)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, errs, "Resolved pins missing from archbuild.lock.hcl")
	assert.Contains(t, out, "Bases: none was in the lock; all")
	lock, err := registry.ReadLock(filepath.Join(filepath.Dir(specPath), registry.LockFileName))
	require.NoError(t, err)
	for ref, img := range want {
		im := lock.Find(ref)
		require.NotNil(t, im, ref)
		require.NotNil(t, im.Platform("linux/amd64"), ref)
		assert.Equal(t, img.Platforms["linux/amd64"].Manifest, im.Platform("linux/amd64").Manifest, ref)
		assert.Contains(t, out, ref+"@"+img.Platforms["linux/amd64"].Manifest.String())
	}

	code, out, errs = runArchc(planArgs(specPath, cacheDir, "--locked")...)
	require.Equal(t, 0, code, errs)
	assert.NotContains(t, out, "resolved now")
}
