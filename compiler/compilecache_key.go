package compiler

import (
	"bytes"
	"crypto/sha256"
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"runtime/debug"
	"strconv"
	"sync"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
	digest "github.com/opencontainers/go-digest"
)

// compileInputs is everything a compiled build depends on but the base images (see
// compileCache). The key hashes every field (key), so an input added here is in the key.
// The spec and the component are taken whole rather than field by field: an attribute
// added to the spec language reaches the key without anyone remembering to add it.
type compileInputs struct {
	Format string
	// Compiler identifies archc's build, which fixes buildkit's Dockerfile frontend, the
	// LLB caps and archc's own lowering.
	Compiler string
	// Spec is the spec without its components, variables (their values may be secrets; what
	// they decide shows in the evaluated fields) and proxy (never part of a compile), and
	// without source ranges.
	Spec json.RawMessage
	// Component is the build's component, without source ranges.
	Component json.RawMessage
	// Platform and BuildPlatform are the target platform and $BUILDPLATFORM, JSON of the
	// platform structs (variant included).
	Platform      json.RawMessage
	BuildPlatform json.RawMessage
	// Dockerfile is the digest of the Dockerfile's bytes.
	Dockerfile digest.Digest
	// Contexts are the local contexts sent (main and named): directory, ignore file,
	// patterns and content digest.
	Contexts []Context
	// Inputs are the results (resultDigest) of the builds used as named contexts, by name.
	Inputs map[string]digest.Digest
}

// key is the digest of in: each field in order, as "NAME LENGTH\n" and its JSON. The
// json.RawMessage fields (spec and component, already JSON) are hashed as they are:
// json.Marshal would validate and compact them again for every build, a twentieth of a
// cold compile.
func (in *compileInputs) key() (digest.Digest, error) {
	h := sha256.New()
	v := reflect.ValueOf(in).Elem()
	var head []byte
	for i := 0; i < v.NumField(); i++ {
		dt, ok := v.Field(i).Interface().(json.RawMessage)
		if !ok {
			var err error
			if dt, err = json.Marshal(v.Field(i).Interface()); err != nil {
				return "", fmt.Errorf("compile cache key: %w", err)
			}
		}
		head = append(append(head[:0], v.Type().Field(i).Name...), ' ')
		head = append(strconv.AppendInt(head, int64(len(dt)), 10), '\n')
		h.Write(head)
		h.Write(dt)
	}
	return digest.NewDigest(digest.SHA256, h), nil
}

// specKeyJSON is the spec as compileInputs.Spec holds it.
func specKeyJSON(s *spec.Spec) (json.RawMessage, error) {
	c := *s
	c.Components = nil
	c.Variables = nil
	c.Proxy = nil
	return keyJSON(c)
}

// keyJSON is v's JSON without source ranges (hcl.Range values, whatever the field's name):
// where an attribute was written changes no compile, and keeping ranges would miss the
// cache for every component below an edited line.
func keyJSON(v any) (json.RawMessage, error) {
	return json.Marshal(withoutRanges(reflect.ValueOf(v)).Interface())
}

var hclRangeType = reflect.TypeOf(hcl.Range{})

// withoutRanges is a copy of v with every hcl.Range in it zeroed; parts that hold no
// struct are shared, not copied.
func withoutRanges(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		p := reflect.New(v.Type().Elem())
		p.Elem().Set(withoutRanges(v.Elem()))
		return p
	case reflect.Struct:
		if v.Type() == hclRangeType {
			return reflect.Zero(hclRangeType)
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(withoutRanges(v.Field(i)))
			}
		}
		return out
	case reflect.Slice:
		if v.IsNil() || !holdsStruct(v.Type().Elem()) {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := 0; i < v.Len(); i++ {
			out.Index(i).Set(withoutRanges(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() || !holdsStruct(v.Type().Elem()) {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		for it := v.MapRange(); it.Next(); {
			out.SetMapIndex(it.Key(), withoutRanges(it.Value()))
		}
		return out
	}
	return v
}

// holdsStruct says whether values of t can contain a struct (hence a range).
func holdsStruct(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Struct, reflect.Interface:
		return true
	case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
		return holdsStruct(t.Elem())
	}
	return false
}

// compilerVersion identifies this binary: its Go build ID, which changes with any change
// to archc, buildkit or the toolchain. Without one, a VCS revision of an unmodified tree;
// else "" (no compile cache: a stale compiler must not serve its old output).
var compilerVersion = sync.OnceValue(func() string {
	if id := goBuildID(); id != "" {
		return "buildid " + id
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	rev, modified := "", true
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" || modified {
		return ""
	}
	return "vcs " + rev + " " + runtime.Version() + " buildkit " + buildkitVersion
})

// goBuildID reads the Go build ID of the running executable: the ELF note
// .note.go.buildid, else the "\xff Go build ID: \"ID\"" string the linker writes near the
// start of other executables (both as cmd/internal/buildid reads them).
func goBuildID() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if ef, err := elf.Open(exe); err == nil {
		defer ef.Close()
		if sec := ef.Section(".note.go.buildid"); sec != nil {
			// namesz, descsz, type, "Go\x00\x00", desc.
			if note, err := sec.Data(); err == nil && len(note) > 16 && string(note[12:16]) == "Go\x00\x00" {
				n := int(ef.ByteOrder.Uint32(note[4:8]))
				if 16+n <= len(note) {
					return string(note[16 : 16+n])
				}
			}
		}
		return ""
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	buf := make([]byte, 64*1024)
	n, _ := f.ReadAt(buf, 0)
	buf = buf[:n]
	prefix := []byte("\xff Go build ID: \"")
	i := bytes.Index(buf, prefix)
	if i < 0 {
		return ""
	}
	rest := buf[i+len(prefix):]
	j := bytes.IndexByte(rest, '"')
	if j <= 0 || j > 200 {
		return ""
	}
	return string(rest[:j])
}
