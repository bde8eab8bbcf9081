package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lockProject writes a spec whose docker.io images come only from mirror, with one
// component using busybox:1.36 and alpine:3.20, and returns the spec path and a cache dir.
func lockProject(t *testing.T, mirror string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"),
		[]byte("FROM alpine:3.20 AS tools\nFROM busybox:1.36\nCOPY --from=tools /etc/os-release /\n"), 0o644))
	spec := fmt.Sprintf(`platforms = ["linux/amd64", "linux/arm64"]

registry "docker.io" {
  mirrors      = [%q]
  mirrors_only = true
}

component "app" {
  context = "./app"
}
`, mirror)
	specPath := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(specPath, []byte(spec), 0o644))
	return specPath, filepath.Join(t.TempDir(), "cache")
}

func lockArgs(specPath, cacheDir string, more ...string) []string {
	return append([]string{"lock", specPath, "--cache-dir", cacheDir, "--build-platform", "linux/amd64"}, more...)
}

func readLock(t *testing.T, specPath string) (*registry.Lock, string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(filepath.Dir(specPath), registry.LockFileName))
	require.NoError(t, err)
	l, err := registry.ParseLock(b, registry.LockFileName)
	require.NoError(t, err)
	return l, string(b)
}

func TestLockCommand(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	bb1 := testenv.PushTiny(t, reg, "library/busybox", "1.36")
	al1 := testenv.PushTiny(t, reg, "library/alpine", "3.20")
	fp := testenv.StartFaultProxy(t, reg.URL)
	specPath, cacheDir := lockProject(t, fp.URL)
	const bb, al = "docker.io/library/busybox:1.36", "docker.io/library/alpine:3.20"
	moveTag := func(repo, tag string) testenv.Image {
		c, err := testenv.TinyContent(repo+" moved "+time.Now().String(), "linux/amd64", "linux/arm64")
		require.NoError(t, err)
		img, err := c.Push(context.Background(), reg.URL, repo, tag)
		require.NoError(t, err)
		return img
	}

	code, out, errs := runArchc(lockArgs(specPath, cacheDir)...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "+ "+al+" "+al1.Index.String()+"\n")
	assert.Contains(t, out, "+ "+bb+" "+bb1.Index.String()+"\n")
	assert.Contains(t, out, "Wrote archbuild.lock.hcl: 2 images.\n")
	lock, first := readLock(t, specPath)
	require.NotNil(t, lock.Find(bb))
	assert.Equal(t, bb1.Index, lock.Find(bb).Digest)
	assert.Equal(t, fp.Host, lock.Find(bb).Host)
	assert.Len(t, lock.Find(bb).Platforms, 2)

	// The tags move: lock reports it and keeps both pins.
	bb2, al2 := moveTag("library/busybox", "1.36"), moveTag("library/alpine", "3.20")
	code, out, errs = runArchc(lockArgs(specPath, cacheDir)...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "! "+bb+": tag now points to "+bb2.Index.String()+"; kept the pin "+bb1.Index.String()+
		" (move it: archc lock --update --image "+bb+")\n")
	assert.Contains(t, out, "! "+al+": tag now points to "+al2.Index.String())
	_, again := readLock(t, specPath)
	assert.Equal(t, first, again, "no pin moved")

	// --format json says the same for machines.
	code, out, errs = runArchc(lockArgs(specPath, cacheDir, "--format", "json")...)
	require.Equal(t, exitOK, code, errs)
	var report struct {
		FormatVersion int    `json:"format_version"`
		File          string `json:"file"`
		Images        int    `json:"images"`
		Changes       []struct {
			Ref, Kind, Old, New string
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &report), out)
	assert.Equal(t, 1, report.FormatVersion)
	assert.Equal(t, registry.LockFileName, report.File)
	assert.Equal(t, 2, report.Images)
	require.Len(t, report.Changes, 2)
	assert.Equal(t, al, report.Changes[0].Ref)
	assert.Equal(t, bb, report.Changes[1].Ref)
	assert.Equal(t, "moved", report.Changes[1].Kind)
	assert.Equal(t, bb1.Index.String(), report.Changes[1].Old)
	assert.Equal(t, bb2.Index.String(), report.Changes[1].New)

	// --image without --update is a usage error.
	code, _, errs = runArchc(lockArgs(specPath, cacheDir, "--image", "busybox:1.36")...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "--image needs --update")

	// --update --image moves only that pin.
	code, out, errs = runArchc(lockArgs(specPath, cacheDir, "--update", "--image", "busybox:1.36")...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "~ "+bb+" "+bb1.Index.String()+" -> "+bb2.Index.String()+"\n")
	assert.Contains(t, out, "! "+al+": tag now points to "+al2.Index.String())
	lock, _ = readLock(t, specPath)
	assert.Equal(t, bb2.Index, lock.Find(bb).Digest)
	assert.Equal(t, al1.Index, lock.Find(al).Digest)

	// --update moves the rest.
	code, out, errs = runArchc(lockArgs(specPath, cacheDir, "--update")...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "~ "+al+" "+al1.Index.String()+" -> "+al2.Index.String()+"\n")
	assert.Contains(t, out, "  "+bb+" "+bb2.Index.String()+"\n")
	lock, _ = readLock(t, specPath)
	assert.Equal(t, al2.Index, lock.Find(al).Digest)
}

// TestLockFailureKeepsLock: a run that cannot resolve (the only mirror blackholed, short
// --timeout) exits 1, names the mirror and its cause, and leaves the lock byte-identical.
func TestLockFailureKeepsLock(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	testenv.PushTiny(t, reg, "library/busybox", "1.36")
	testenv.PushTiny(t, reg, "library/alpine", "3.20")
	fp := testenv.StartFaultProxy(t, reg.URL)
	specPath, cacheDir := lockProject(t, fp.URL)
	code, _, errs := runArchc(lockArgs(specPath, cacheDir)...)
	require.Equal(t, exitOK, code, errs)
	_, before := readLock(t, specPath)

	tests := []struct {
		name  string
		setup func(t *testing.T) (specPath string)
		want  []string
	}{
		{name: "blackholed mirror", setup: func(*testing.T) string {
			fp.Set(testenv.Blackhole())
			return specPath
		}, want: []string{"mirror " + fp.URL + ": timed out after 300ms"}},
		{name: "dead mirror host", setup: func(t *testing.T) string {
			dead := "http://" + testenv.ClosedAddr(t)
			src, err := os.ReadFile(specPath)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(specPath, []byte(strings.Replace(string(src), fp.URL, dead, 1)), 0o644))
			return specPath
		}, want: []string{"connection refused"}},
	}
	for _, tt := range tests {
		// Sequential: both edit the one project.
		p := tt.setup(t)
		start := time.Now()
		code, out, errs := runArchc(lockArgs(p, cacheDir, "--update", "--timeout", "1s", "--attempt-timeout", "300ms")...)
		assert.Equal(t, exitFailure, code, tt.name)
		assert.Less(t, time.Since(start), 15*time.Second, "%s: bounded by --timeout", tt.name)
		assert.NotContains(t, out, "Wrote", tt.name)
		assert.Contains(t, errs, "archbuild.lock.hcl left unchanged", tt.name)
		assert.Contains(t, errs, "docker.io/library/busybox:1.36: mirror ", tt.name)
		for _, w := range tt.want {
			assert.Contains(t, errs, w, tt.name)
		}
		_, after := readLock(t, specPath)
		assert.Equal(t, before, after, "%s: the lock is byte-identical", tt.name)
		entries, err := os.ReadDir(filepath.Dir(specPath))
		require.NoError(t, err)
		for _, e := range entries {
			assert.NotContains(t, e.Name(), ".tmp", "%s: no temporary file left", tt.name)
		}
	}
}

// TestLockBrokenAndUnused: a lock entry that does not parse is reported like a spec
// problem with a hint that leads somewhere (--update --image rewrites it), a lock that is
// not HCL at all is rewritten by --update, and a pin no component uses any more is
// removed and reported.
func TestLockBrokenAndUnused(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	bb := testenv.PushTiny(t, reg, "library/busybox", "1.36")
	testenv.PushTiny(t, reg, "library/alpine", "3.20")
	fp := testenv.StartFaultProxy(t, reg.URL)
	specPath, cacheDir := lockProject(t, fp.URL)
	lockPath := filepath.Join(filepath.Dir(specPath), registry.LockFileName)
	code, _, errs := runArchc(lockArgs(specPath, cacheDir)...)
	require.Equal(t, exitOK, code, errs)
	_, good := readLock(t, specPath)

	broken := strings.Replace(good, `digest = "`+bb.Index.String(), `digest = "sha256:0123`, 1)
	require.NotEqual(t, good, broken)
	require.NoError(t, os.WriteFile(lockPath, []byte(broken), 0o644))
	code, _, errs = runArchc(lockArgs(specPath, cacheDir)...)
	assert.Equal(t, exitFailure, code)
	assert.Regexp(t, `archbuild\.lock\.hcl:\d+:12: error: Invalid digest\n +\d+ \|   digest = "sha256:0123"\n`, errs)
	assert.Contains(t, errs, "\nhint: the lock is written by archc lock; after a merge conflict, delete the broken image blocks (or the file) and run archc lock, "+
		"or resolve just those again: archc lock --update --image docker.io/library/busybox:1.36\n")

	// The hint works; the other pin is kept.
	code, out, errs := runArchc(lockArgs(specPath, cacheDir, "--update", "--image", "docker.io/library/busybox:1.36")...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, errs, "resolving broken pins again: docker.io/library/busybox:1.36")
	assert.Contains(t, out, "+ docker.io/library/busybox:1.36 "+bb.Index.String()+"\n")
	_, now := readLock(t, specPath)
	assert.Equal(t, good, now)

	// A merge conflict is not HCL: --update --image cannot trust the rest, --update can.
	conflict := "<<<<<<< HEAD\n" + good + "=======\n" + good + ">>>>>>> theirs\n"
	require.NoError(t, os.WriteFile(lockPath, []byte(conflict), 0o644))
	code, _, errs = runArchc(lockArgs(specPath, cacheDir, "--update", "--image", "busybox:1.36")...)
	assert.Equal(t, exitFailure, code)
	assert.Contains(t, errs, "or run archc lock --update to resolve every pin again")
	code, _, errs = runArchc(lockArgs(specPath, cacheDir, "--update")...)
	require.Equal(t, exitOK, code, errs)
	_, now = readLock(t, specPath)
	assert.Equal(t, good, now)

	// A pin no component uses any more is removed, and says so.
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(specPath), "app", "Dockerfile"), []byte("FROM busybox:1.36\n"), 0o644))
	code, out, errs = runArchc(lockArgs(specPath, cacheDir)...)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, out, "- docker.io/library/alpine:3.20 (no longer used)\n")
	lock, _ := readLock(t, specPath)
	assert.Nil(t, lock.Find("alpine:3.20"))
	assert.NotNil(t, lock.Find("busybox:1.36"))
}

// TestLockTamperedRefused: a lock whose linux/amd64 and linux/arm64 manifests were swapped
// (the index digest untouched) is refused by lock, plan and plan --locked, located in the
// lock file and saying what the index lists, and nothing is written; the hint's
// `lock --update --image` re-pins it.
func TestLockTamperedRefused(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	bb := testenv.PushTiny(t, reg, "library/busybox", "1.36")
	testenv.PushTiny(t, reg, "library/alpine", "3.20")
	specPath, cacheDir := lockProject(t, reg.URL)
	lockPath := filepath.Join(filepath.Dir(specPath), registry.LockFileName)
	code, _, errs := runArchc(lockArgs(specPath, cacheDir)...)
	require.Equal(t, exitOK, code, errs)
	_, good := readLock(t, specPath)

	amd, arm := bb.Platforms["linux/amd64"].Manifest.String(), bb.Platforms["linux/arm64"].Manifest.String()
	swapped := strings.NewReplacer(amd, arm, arm, amd).Replace(good)
	require.NotEqual(t, good, swapped)
	require.NoError(t, os.WriteFile(lockPath, []byte(swapped), 0o644))

	for _, args := range [][]string{
		lockArgs(specPath, cacheDir),
		planArgs(specPath, cacheDir),
		planArgs(specPath, cacheDir, "--locked"),
	} {
		code, out, errs := runArchc(args...)
		assert.Equal(t, exitFailure, code, args)
		assert.NotContains(t, out, "Wrote", args)
		assert.Regexp(t, `archbuild\.lock\.hcl:\d+:16: error: Manifest not listed for linux/amd64 in the pinned index\n +\d+ \|     manifest = "`+arm+`"\n`, errs, args)
		assert.Contains(t, errs, "docker.io/library/busybox:1.36: linux/amd64 manifest "+arm+" is listed in index "+bb.Index.String()+
			" under linux/arm64; the index lists "+amd+" for linux/amd64.", args)
		assert.Contains(t, errs, "hint: archbuild.lock.hcl pins content its own index contradicts", args)
		assert.Contains(t, errs, "archc lock --update --image docker.io/library/busybox:1.36\n", args)
		_, now := readLock(t, specPath)
		assert.Equal(t, swapped, now, "%v: the lock is left as it was", args)
	}

	code, _, errs = runArchc(lockArgs(specPath, cacheDir, "--update", "--image", "docker.io/library/busybox:1.36")...)
	require.Equal(t, exitOK, code, errs)
	_, now := readLock(t, specPath)
	assert.Equal(t, good, now, "the hint re-pins from the registry")
	code, _, errs = runArchc(planArgs(specPath, cacheDir, "--locked")...)
	assert.Equal(t, exitOK, code, errs)
}
