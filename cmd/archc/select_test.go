package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/registry"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The compiler's test project: base (amd64, arm64), static (amd64 only), and app (amd64,
// arm64), which uses base as a named context.
var projectBuilds = []string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64", "static/linux/amd64"}

// planSelection is the JSON plan's builds and selection fields.
type planSelection struct {
	Builds []struct {
		ID string `json:"id"`
	} `json:"builds"`
	Selection *struct {
		Components []string `json:"components"`
		Platforms  []string `json:"platforms"`
	} `json:"selection"`
	NotSelected []string `json:"not_selected"`
}

func (p planSelection) ids() []string {
	var out []string
	for _, b := range p.Builds {
		out = append(out, b.ID)
	}
	return out
}

// TestPlanSelection: the selected builds and what they depend on, for the selected
// platforms; the rest listed as not selected, in text and JSON.
func TestPlanSelection(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"nothing selected", nil, projectBuilds},
		{"a component with a dependency", []string{"--component", "app"},
			[]string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64"}},
		{"a component and a platform: the dependency for that platform only", []string{"--component", "app", "--platform", "linux/arm64"},
			[]string{"app/linux/arm64", "base/linux/arm64"}},
		{"a platform, any spelling: components without it are left out", []string{"--platform", "linux/aarch64"},
			[]string{"app/linux/arm64", "base/linux/arm64"}},
		{"positional names after the spec", []string{"static", "base"},
			[]string{"base/linux/amd64", "base/linux/arm64", "static/linux/amd64"}},
		{"flag and positional together, repeated", []string{"static", "--component", "static", "--component", "base", "--platform", "linux/amd64"},
			[]string{"base/linux/amd64", "static/linux/amd64"}},
		{"a dependency selected alone", []string{"--component", "base"},
			[]string{"base/linux/amd64", "base/linux/arm64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runArchc(planArgs(specPath, cacheDir, append(tc.args, "--format", "json")...)...)
			require.Equal(t, exitOK, code, errs)
			var p planSelection
			require.NoError(t, json.Unmarshal([]byte(out), &p), out)
			assert.Equal(t, tc.want, p.ids())
			var rest []string
			for _, id := range projectBuilds {
				if !strings.Contains(strings.Join(tc.want, " "), id) {
					rest = append(rest, id)
				}
			}
			assert.Equal(t, rest, p.NotSelected)
			assert.Equal(t, tc.args == nil, p.Selection == nil, "selection recorded when given")

			code, out, errs = runArchc(planArgs(specPath, cacheDir, tc.args...)...)
			require.Equal(t, exitOK, code, errs)
			if rest == nil {
				assert.NotContains(t, out, "Not selected")
				return
			}
			assert.Contains(t, out, "\nNot selected: "+strings.Join(rest, ", ")+"\n")
			assert.Contains(t, out, "builds not selected.\n")
			assert.Contains(t, out, "\nSelection: ")
			for _, id := range rest {
				assert.NotContains(t, out, "\n"+id+"\n", "no block for an unselected build")
			}
		})
	}
	t.Run("text", func(t *testing.T) {
		t.Parallel()
		code, out, errs := runArchc(planArgs(specPath, cacheDir, "app", "--platform", "linux/arm64")...)
		require.Equal(t, exitOK, code, errs)
		assert.Contains(t, out, "Selection: components app; platforms linux/arm64, and what they depend on\n")
		assert.Contains(t, out, "\nNot selected: app/linux/amd64, base/linux/amd64, static/linux/amd64\n")
		assert.Contains(t, out, "Plan: 2 builds (2 components, 1 platforms), 3 pinned base images; 3 builds not selected.\n")
	})
}

// TestPlanSelectionErrors: an unknown name and an undeclared platform are usage errors
// that say what the spec has.
func TestPlanSelectionErrors(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"unknown component, close to one", []string{"--component", "ap"},
			[]string{`archc: select component "ap": the spec has no such component. Did you mean "app"?`, "hint: the spec's components: app, base, static\n"}},
		{"unknown positional name", []string{"stattic"},
			[]string{`select component "stattic"`, `Did you mean "static"?`}},
		{"unknown and far from any", []string{"--component", "frontend"},
			[]string{`select component "frontend": the spec has no such component`}},
		{"a platform the component is not built for", []string{"--component", "static", "--platform", "linux/arm64"},
			[]string{"select platform linux/arm64: component static is not built for it (its platforms: linux/amd64)",
				"hint: select one of static's platforms, or add linux/arm64 to its platforms in the spec"}},
		{"one of two components lacks it", []string{"app", "static", "--platform", "linux/arm64"},
			[]string{"component static is not built for it"}},
		{"a platform no component is built for", []string{"--platform", "linux/s390x"},
			[]string{"select platform linux/s390x: no component is built for it (the spec's platforms: linux/amd64, linux/arm64)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, out, errs := runArchc(planArgs(specPath, cacheDir, tc.args...)...)
			assert.Equal(t, exitUsage, code, errs)
			assert.Empty(t, out)
			for _, w := range tc.want {
				assert.Contains(t, errs, w)
			}
			if !strings.Contains(tc.name, "close") && !strings.Contains(tc.name, "positional") {
				assert.NotContains(t, errs, "Did you mean")
			}
		})
	}
}

// TestPlanSelectionKeepsTheLock: a selection compiles and pins the whole spec: --locked
// checks all of it, and a plan never removes the pins of what it did not select.
func TestPlanSelectionKeepsTheLock(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	lockPath := filepath.Join(filepath.Dir(specPath), registry.LockFileName)
	before, err := os.ReadFile(lockPath)
	require.NoError(t, err)
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "--locked", "static")...)
	require.Equal(t, exitOK, code, errs)
	code, _, errs = runArchc(planArgs(specPath, cacheDir, "static")...)
	require.Equal(t, exitOK, code, errs)
	after, err := os.ReadFile(lockPath)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "the pins of base and app stay")

	// A pin only an unselected build uses is still checked by --locked.
	lock, err := registry.ReadLock(lockPath)
	require.NoError(t, err)
	var kept []registry.Image
	for _, im := range lock.Images {
		if im.Ref != "docker.io/library/golang:1.22" {
			kept = append(kept, im)
		}
	}
	lock.Images = kept
	require.NoError(t, registry.WriteLock(lockPath, lock))
	code, _, errs = runArchc(planArgs(specPath, cacheDir, "--locked", "static")...)
	assert.Equal(t, exitFailure, code, errs)
	assert.Contains(t, errs, "missing docker.io/library/golang:1.22 (linux/amd64)")
}

// TestSelectionBareName: `archc plan NAME` in the spec's directory selects component NAME,
// even where NAME is also a directory (its context); a directory holding archbuild.hcl is
// that spec; with no spec around, the error says what was looked for.
func TestSelectionBareName(t *testing.T) {
	specPath, cacheDir := planProject(t, true)
	dir := filepath.Dir(specPath)
	t.Chdir(dir)
	code, out, errs := runArchc("plan", "app", "--cache-dir", cacheDir, "--build-platform", "linux/amd64", "--platform", "linux/amd64", "--format", "json")
	require.Equal(t, exitOK, code, errs)
	var p planSelection
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	assert.Equal(t, []string{"app/linux/amd64", "base/linux/amd64"}, p.ids())

	code, out, errs = runArchc("plan", "nope", "--cache-dir", cacheDir, "--build-platform", "linux/amd64")
	assert.Equal(t, exitUsage, code, errs)
	assert.Contains(t, errs, `select component "nope"`)

	t.Chdir(t.TempDir())
	code, out, errs = runArchc("plan", dir, "static", "--cache-dir", cacheDir, "--build-platform", "linux/amd64", "--format", "json")
	require.Equal(t, exitOK, code, errs)
	p = planSelection{}
	require.NoError(t, json.Unmarshal([]byte(out), &p), out)
	assert.Equal(t, []string{"static/linux/amd64"}, p.ids(), "a directory with archbuild.hcl is the spec")

	require.NoError(t, os.Mkdir("web", 0o755))
	for _, arg := range []string{"web", "missing"} {
		code, _, errs = runArchc("apply", arg, "--dry-run", "--cache-dir", cacheDir)
		assert.Equal(t, exitUsage, code, errs)
		assert.Contains(t, errs, "archc: "+arg+" is not a spec (")
		assert.Contains(t, errs, "and there is no archbuild.hcl here to select a component "+arg+" from")
		assert.Contains(t, errs, "hint: give the spec first")
		assert.NotContains(t, errs, "is a directory")
	}
}

// TestPlanFileWithSelection: a plan file records its selection, apply FILE builds the same
// selection and refuses another one; a file whose selection was edited is refused.
func TestPlanFileWithSelection(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	planFile := filepath.Join(t.TempDir(), "sel.plan")
	code, _, errs := runArchc(planArgs(specPath, cacheDir, "app", "--platform", "linux/arm64", "--out", planFile)...)
	require.Equal(t, exitOK, code, errs)

	code, out, errs := runArchc("apply", planFile, "--dry-run", "--cache-dir", cacheDir)
	require.Equal(t, exitOK, code, errs)
	assert.Contains(t, errs, "(taken from the plan file: build platform linux/amd64; selection components app; platforms linux/arm64)")
	assert.Contains(t, out, "\napp/linux/arm64\n")
	assert.Contains(t, out, "\nbase/linux/arm64\n")
	assert.NotContains(t, out, "\napp/linux/amd64\n")
	assert.Contains(t, out, "Not selected: app/linux/amd64, base/linux/amd64, static/linux/amd64")

	for _, args := range [][]string{{"--component", "static"}, {"--platform", "linux/amd64"}} {
		code, _, errs = runArchc(append([]string{"apply", planFile, "--dry-run"}, args...)...)
		assert.Equal(t, exitUsage, code, errs)
		assert.Contains(t, errs, "the plan carries its selection")
	}

	// The selection is checked like every other field: widened by hand, it is refused.
	dt, err := os.ReadFile(planFile)
	require.NoError(t, err)
	var tree map[string]any
	require.NoError(t, json.Unmarshal(dt, &tree))
	tree["selection"].(map[string]any)["platforms"] = []string{"linux/amd64"}
	dt, err = json.Marshal(tree)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(planFile, dt, 0o600))
	code, _, errs = runArchc("apply", planFile, "--dry-run", "--cache-dir", cacheDir)
	assert.Equal(t, exitFailure, code, errs)
	assert.Contains(t, errs, "refusing to apply")
	assert.Contains(t, errs, "the plan file is not what the spec produces")
}
