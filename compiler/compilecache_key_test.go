package compiler

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fill sets v (settable) to a non-zero value of its type, recursively.
func fill(t *testing.T, v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		v.SetString("x")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(7)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(7)
	case reflect.Float32, reflect.Float64:
		v.SetFloat(7)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		fill(t, s.Index(0))
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(t, k)
		fill(t, e)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Pointer:
		p := reflect.New(v.Type().Elem())
		fill(t, p.Elem())
		v.Set(p)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(t, v.Field(i))
			}
		}
	default:
		t.Fatalf("fill: no value for %s: teach the test (and check the compile cache key) about it", v.Type())
	}
}

var rangeType = reflect.TypeOf(hcl.Range{})

// TestCompileKeyCoversEveryField sets each field of the component and of the spec in turn
// and expects the key to change; only source ranges (and the spec parts specKeyJSON leaves
// out on purpose) may leave it as it was. A field the key cannot see fails here.
func TestCompileKeyCoversEveryField(t *testing.T) {
	t.Parallel()
	left := map[string]bool{"Components": true, "Variables": true, "Proxy": true}
	check := func(t *testing.T, typ reflect.Type, key func(v reflect.Value) json.RawMessage) {
		base := key(reflect.New(typ).Elem())
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			t.Run(typ.Name()+"."+f.Name, func(t *testing.T) {
				v := reflect.New(typ).Elem()
				fill(t, v.Field(i))
				got := key(v)
				switch {
				case f.Type == rangeType, typ == reflect.TypeOf(spec.Spec{}) && left[f.Name]:
					assert.JSONEq(t, string(base), string(got), "%s must not change the key", f.Name)
				default:
					assert.NotEqual(t, string(base), string(got), "%s is not in the compile cache key", f.Name)
				}
			})
		}
	}
	check(t, reflect.TypeOf(spec.Component{}), func(v reflect.Value) json.RawMessage {
		c := v.Interface().(spec.Component)
		k, err := keyJSON(&c)
		require.NoError(t, err)
		return k
	})
	check(t, reflect.TypeOf(spec.Spec{}), func(v reflect.Value) json.RawMessage {
		s := v.Interface().(spec.Spec)
		k, err := specKeyJSON(&s)
		require.NoError(t, err)
		return k
	})
	check(t, reflect.TypeOf(compileInputs{}), func(v reflect.Value) json.RawMessage {
		in := v.Interface().(compileInputs)
		if in.Spec == nil { // RawMessage must hold JSON
			in.Spec = json.RawMessage(`{}`)
		} else {
			in.Spec = json.RawMessage(`{"x":1}`)
		}
		for _, p := range []*json.RawMessage{&in.Component, &in.Platform, &in.BuildPlatform} {
			if *p == nil {
				*p = json.RawMessage(`{}`)
			} else {
				*p = json.RawMessage(`{"x":1}`)
			}
		}
		k, err := in.key()
		require.NoError(t, err)
		return json.RawMessage(`"` + k.String() + `"`)
	})
}

// TestCompileKeyIgnoresRanges: the same component written on another line keys alike.
func TestCompileKeyIgnoresRanges(t *testing.T) {
	t.Parallel()
	c := spec.Component{Name: "a", Contexts: []spec.NamedContext{{Name: "n", Path: "/p"}}}
	a, err := keyJSON(&c)
	require.NoError(t, err)
	c.Range = hcl.Range{Filename: "x.hcl", Start: hcl.Pos{Line: 9}}
	c.Contexts[0].Range = hcl.Range{Filename: "x.hcl", Start: hcl.Pos{Line: 10}}
	b, err := keyJSON(&c)
	require.NoError(t, err)
	assert.JSONEq(t, string(a), string(b))
}

// TestCacheEntryRoundTrip: every field of a Build survives the cache (a field added to
// Build that the entry's encoding loses fails here).
func TestCacheEntryRoundTrip(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	var b Build
	v := reflect.ValueOf(&b).Elem()
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Name != "Definition" {
			fill(t, v.Field(i))
		}
	}
	b.Definition = plan.Builds[0].Definition
	e, err := newEntry(&b, []imageAnswer{{Ref: "r", Answer: "sha256:00"}}, []string{"w"})
	require.NoError(t, err)
	raw, err := encodeEntry(e)
	require.NoError(t, err)
	got, err := decodeEntry(raw)
	require.NoError(t, err)
	want, wantDefs := comparable(t, &Plan{Builds: []Build{b}})
	have, haveDefs := comparable(t, &Plan{Builds: []Build{got.Build}})
	assert.Equal(t, want, have)
	assert.Equal(t, wantDefs, haveDefs)
	assert.Equal(t, e.Images, got.Images)
	assert.Equal(t, []string{"w"}, got.Warnings)
}

// TestCompilerVersion: the test binary identifies itself (else the cache would be off).
func TestCompilerVersion(t *testing.T) {
	t.Parallel()
	assert.NotEmpty(t, goBuildID())
	assert.Contains(t, compilerVersion(), "buildid ")
}
