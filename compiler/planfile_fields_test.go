package compiler

import (
	"context"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uncheckedFields are the fields of PlanFile (and below) whose change a plan file may
// carry without being refused, each matching an entry of unchecked (or never saved).
// BaseContent is not among them: Match leaves it out, but content that is not that of its
// digest is refused on load (and content is never used unless the lock names its digest).
var uncheckedFields = map[string]string{
	"SpecFiles":                      "spec_files",
	"Vars":                           "variables",
	"Plan.Proxy":                     "proxy",
	"Plan.Builds[].Bases[].Resolved": "builds.*.pinned_bases.*.Resolved",
	"Scrub":                          "", // a function: never saved
}

// TestPlanFileEveryFieldIsChecked walks PlanFile, Plan, Build and the structs they hold
// by reflection; for every field it changes the value in a compiled plan, saves the plan
// file and expects LoadPlanFile or Match to refuse it. A field added to any of these
// structs is covered without a line here, and a field the plan file forgets to save (or
// Match to compare) fails this test unless it is listed in uncheckedFields with a reason.
func TestPlanFileEveryFieldIsChecked(t *testing.T) {
	t.Parallel()
	paths := fieldPaths(reflect.TypeFor[PlanFile](), "")
	require.Contains(t, paths, "Plan.Builds[].Outputs[].Name")
	for name, key := range uncheckedFields {
		require.Contains(t, paths, name)
		if key != "" {
			require.True(t, isUnchecked(key), "%s: %s is not in unchecked", name, key)
		}
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			s := projectSpec(t, dir)
			pf := NewPlanFile(compileProject(t, dir), s.Files)
			if !perturb(reflect.ValueOf(pf).Elem(), strings.Split(path, ".")) {
				require.Contains(t, uncheckedFields, path, "%s could not be changed", path)
				return
			}
			file := filepath.Join(dir, "t.plan")
			require.NoError(t, pf.Save(file))
			f, err := LoadPlanFile(file)
			if err == nil {
				_, err = f.Match(context.Background(), s, newFakeImages())
			}
			if _, ok := uncheckedFields[path]; ok {
				assert.NoError(t, err, "%s is listed as unchecked", path)
				return
			}
			assert.Error(t, err, "%s changed in the plan file, and it went unnoticed: save it (PlanFile.form) or list it in unchecked with the reason", path)
		})
	}
}

func isUnchecked(key string) bool {
	for _, u := range unchecked {
		if u.path == key {
			return true
		}
	}
	return false
}

// fieldPaths lists the exported leaf fields under struct type t: "Plan.Builds[].ID".
// Structs of this package are walked into (through pointers and slices); other types are
// leaves.
func fieldPaths(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		ft, name := f.Type, prefix+f.Name
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			ft, name = ft.Elem(), name+"[]"
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() {
			out = append(out, fieldPaths(ft, name+".")...)
			continue
		}
		out = append(out, name)
	}
	return out
}

// perturb changes the field at path under v (every element of a slice marked []) and
// reports whether it changed anything.
func perturb(v reflect.Value, path []string) bool {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return false
		}
		v = v.Elem()
	}
	name, each := strings.CutSuffix(path[0], "[]")
	f := v.FieldByName(name)
	if len(path) == 1 && !each {
		return perturbLeaf(f)
	}
	if !each {
		return perturb(f, path[1:])
	}
	changed := false
	for i := 0; i < f.Len(); i++ {
		changed = perturb(f.Index(i), path[1:]) || changed
	}
	return changed
}

// perturbLeaf changes one value, whatever its type: strings and numbers grow, bools flip,
// lists and maps get an element, pointers have their first field changed.
func perturbLeaf(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + "x")
	case reflect.Int:
		v.SetInt(v.Int() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Slice:
		if v.Len() == 0 {
			v.Set(reflect.Append(v, reflect.New(v.Type().Elem()).Elem()))
		}
		if !perturbLeaf(v.Index(0)) {
			v.Index(0).Set(reflect.New(v.Type().Elem()).Elem())
		}
	case reflect.Uint8:
		v.SetUint(v.Uint() + 1)
	case reflect.Map:
		if v.IsNil() {
			v.Set(reflect.MakeMap(v.Type()))
		}
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		perturbLeaf(k)
		perturbLeaf(e)
		v.SetMapIndex(k, e)
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		for i := 0; i < v.Elem().NumField(); i++ {
			if v.Elem().Type().Field(i).IsExported() && perturbLeaf(v.Elem().Field(i)) {
				return true
			}
		}
		return false
	default:
		return false
	}
	return true
}

// TestPlanFileFieldsAreNamed: fieldPaths sees the fields a reviewer cares about.
func TestPlanFileFieldsAreNamed(t *testing.T) {
	t.Parallel()
	paths := fieldPaths(reflect.TypeFor[PlanFile](), "")
	for _, want := range []string{"Plan.BuildPlatform", "Plan.Builds[].Platform", "Plan.Builds[].Args", "Plan.Builds[].Labels",
		"Plan.Builds[].Target", "Plan.Builds[].Contexts[].Path", "Plan.Builds[].Bases[].Digest", "Plan.Builds[].Definition",
		"Lock[].Digest", "Lock[].Host"} {
		assert.Contains(t, paths, want)
	}
}
