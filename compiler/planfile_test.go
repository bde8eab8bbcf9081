package compiler

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

func TestPlanFileRoundTrip(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	plan := compileProject(t, dir)
	path := filepath.Join(dir, "plan.archc")
	require.NoError(t, NewPlanFile(plan, s.Files).Save(path))

	f, err := LoadPlanFile(path)
	require.NoError(t, err)
	assert.Equal(t, s.Files, f.SpecFiles)
	require.Len(t, f.Plan.Builds, len(plan.Builds))
	for i, b := range plan.Builds {
		got := f.Plan.Builds[i]
		assert.Equal(t, b.LLBDigest, got.LLBDigest)
		assert.Equal(t, b.Definition.Def, got.Definition.Def, b.ID)
		assert.Equal(t, b.ImageConfig, got.ImageConfig)
		assert.Equal(t, b.Contexts, got.Contexts)
		assert.Equal(t, b.Bases, got.Bases)
		assert.Equal(t, b.Outputs, got.Outputs)
	}
	assert.Equal(t, string(render(t, plan, "json")), string(render(t, f.Plan, "json")), "a loaded plan renders the same")
	assert.Len(t, f.Lock, 5)
	assert.Equal(t, map[string]string{
		"archc:app": filepath.Join(dir, "app"), "archc:assets": filepath.Join(dir, "assets"),
		"archc:base": filepath.Join(dir, "base"), "archc:static": filepath.Join(dir, "static"),
	}, f.Plan.LocalDirs(dir))
	require.NoError(t, stale(t, f, s, lockOf(f.Lock)))
}

func TestPlanFileStaleContexts(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"context edited", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "assets", "index.html"), "changed")
		}, "context assets changed (used by app/linux/amd64, app/linux/arm64)"},
		{"dockerignore edited", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "base", ".dockerignore"), "*.bak\n")
		}, "context base changed"},
		{"ignored file edited", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "base", "notes.bak"), "changed")
		}, ""},
		{"Dockerfile.dockerignore added", func(t *testing.T, dir string) {
			write(t, filepath.Join(dir, "base", "Dockerfile.dockerignore"), "*\n")
		}, "context base changed (used by base/linux/amd64, base/linux/arm64)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := copyProject(t)
			s := projectSpec(t, dir)
			path := filepath.Join(dir, "plan.archc")
			require.NoError(t, NewPlanFile(compileProject(t, dir), s.Files).Save(path))
			tc.edit(t, dir)
			f, err := LoadPlanFile(path)
			require.NoError(t, err)
			err = stale(t, f, s, nil)
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrStale)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestPlanFileStaleSpecAndPins(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	path := filepath.Join(dir, "plan.archc")
	require.NoError(t, NewPlanFile(compileProject(t, dir), s.Files).Save(path))
	f, err := LoadPlanFile(path)
	require.NoError(t, err)

	s.Proxy = nil // not part of the spec digest
	require.NoError(t, stale(t, f, s, nil))

	s.Components[2].Tags = []string{"registry.invalid/app:other"}
	err = stale(t, f, s, nil)
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), "the spec changed")

	// Pins are checked against the lock alone: its image configs are in no cache here, as
	// on a fresh CI runner, and that is not a reason to refuse.
	require.NoError(t, stale(t, f, projectSpec(t, dir), lockOf(f.Lock)))

	moved := lockOf(f.Lock)
	moved.Find("docker.io/library/alpine:3.20").Platform("linux/amd64").Manifest = "sha256:0000000000000000000000000000000000000000000000000000000000000000"
	err = stale(t, f, projectSpec(t, dir), moved)
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), "pin docker.io/library/alpine:3.20 (linux/amd64) moved")

	gone := lockOf(f.Lock[1:])
	err = stale(t, f, projectSpec(t, dir), gone)
	require.ErrorIs(t, err, ErrStale)
	assert.Contains(t, err.Error(), "pin "+f.Lock[0].Ref+" ("+f.Lock[0].Platform+") is no longer in archbuild.lock.hcl")
}

// stale is every staleness Check can report, its cheap checks (staleInputs) and the
// contexts' (verifyContexts, which Check runs only when a mismatch needs explaining), as
// one error wrapping ErrStale, or nil.
func stale(t *testing.T, f *PlanFile, s *spec.Spec, lock *registry.Lock) error {
	t.Helper()
	problems, err := f.staleInputs(s, lock)
	require.NoError(t, err)
	return staleError(append(problems, f.verifyContexts(context.Background(), s.Dir)...))
}

// lockOf is a lock holding exactly the given pins, with config digests no cache has.
func lockOf(entries []LockEntry) *registry.Lock {
	l := &registry.Lock{}
	for _, e := range entries {
		im := registry.Image{Ref: e.Ref, Host: e.Host}
		if old := l.Find(e.Ref); old != nil {
			im = *old
		}
		im.Platforms = append(im.Platforms, registry.PlatformImage{Platform: e.Platform, Manifest: e.Digest, Config: digest.FromString("config not in any cache " + e.Ref)})
		l.Set(im)
	}
	return l
}

func TestPlanFileKeepsOutsideVariables(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	path := filepath.Join(dir, "plan.archc")
	pf := NewPlanFile(compileProject(t, dir), s.Files)
	pf.Vars = map[string]string{"TAG": "1.0", "PROXY_PASSWORD": "s3cr3t-pw"}
	require.NoError(t, pf.Save(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "variables may be secrets")
	f, err := LoadPlanFile(path)
	require.NoError(t, err)
	assert.Equal(t, pf.Vars, f.Vars)
}

func TestLoadPlanFileRejectsEdits(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.archc")
	require.NoError(t, os.WriteFile(path, []byte(`{"archc_plan_file":"other/9"}`), 0o644))
	_, err := LoadPlanFile(path)
	assert.ErrorContains(t, err, "run archc plan -out again")

	require.NoError(t, os.WriteFile(path, []byte(`not json`), 0o644))
	_, err = LoadPlanFile(path)
	assert.ErrorContains(t, err, "expected a file written by `archc plan -out`")
}

// savedPlanFile compiles the test project in a copy, saves it as a plan file and returns
// the copy's spec and the file's path.
func savedPlanFile(t *testing.T) (*spec.Spec, string) {
	t.Helper()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	path := filepath.Join(dir, "t.plan")
	require.NoError(t, NewPlanFile(compileProject(t, dir), s.Files).Save(path))
	return s, path
}

// editPlanFile rewrites the plan file at path through edit, as a hand (or a script) would.
func editPlanFile(t *testing.T, path string, edit func(t *testing.T, tree map[string]any)) {
	t.Helper()
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	var tree map[string]any
	require.NoError(t, json.Unmarshal(dt, &tree))
	edit(t, tree)
	dt, err = json.MarshalIndent(tree, "", " ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, dt, 0o600))
}

// fileBuildOf is the build id of a decoded plan file.
func fileBuildOf(t *testing.T, tree map[string]any, id string) map[string]any {
	t.Helper()
	for _, b := range tree["builds"].([]any) {
		if m := b.(map[string]any); m["id"] == id {
			return m
		}
	}
	require.FailNow(t, "no build "+id)
	return nil
}

// at is the map at path (keys, or indexes as ints) under m.
func at(m map[string]any, path ...any) map[string]any {
	var v any = m
	for _, p := range path {
		switch k := p.(type) {
		case string:
			v = v.(map[string]any)[k]
		case int:
			v = v.([]any)[k]
		}
	}
	return v.(map[string]any)
}

// swapKeys swaps the values of keys between two builds: a consistent edit (checksums and
// digests move with what they cover), so only the comparison with the spec can catch it.
func swapKeys(a, b map[string]any, keys ...string) {
	for _, k := range keys {
		a[k], b[k] = b[k], a[k]
	}
}

// withDefinition decodes a build's definition, lets edit change it and stores it back
// with a matching definition_digest.
func withDefinition(t *testing.T, b map[string]any, edit func(*pb.Definition)) {
	t.Helper()
	dt, err := base64.StdEncoding.DecodeString(b["definition"].(string))
	require.NoError(t, err)
	var def pb.Definition
	require.NoError(t, proto.Unmarshal(dt, &def))
	edit(&def)
	dt, err = proto.MarshalOptions{Deterministic: true}.Marshal(&def)
	require.NoError(t, err)
	b["definition"] = base64.StdEncoding.EncodeToString(dt)
	b["definition_digest"] = digest.FromBytes(dt).String()
}

const (
	appAMD = "app/linux/amd64"
	appARM = "app/linux/arm64"
)

// planFileTampers edit one field of a saved plan file each. want is what the refusal
// says (at load, or when Match compares the file with the spec); "" means the file is
// accepted: an untouched file, and the fields that are deliberately not compared.
var planFileTampers = []struct {
	name string
	edit func(t *testing.T, tree map[string]any)
	want string
}{
	{"untouched", func(*testing.T, map[string]any) {}, ""},
	{"reformatted", func(*testing.T, map[string]any) {}, ""}, // editPlanFile re-indents and re-orders keys
	{"outputs: tag to evil/x:1", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, appAMD), "outputs", 0)["name"] = "registry.invalid/evil/x:1"
	}, `app (linux/amd64): outputs[0].name: the plan file says "registry.invalid/evil/x:1", the spec gives "registry.invalid/app:dev"`},
	{"outputs: type", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, appAMD), "outputs", 1)["type"] = "oci"
	}, `app (linux/amd64): outputs[1].type: the plan file says "oci", the spec gives "registry"`},
	{"outputs: destination path", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, "static/linux/amd64"), "outputs", 0)["path"] = "../../etc"
	}, `static (linux/amd64): outputs[0].path: the plan file says "../../etc", the spec gives "out/static"`},
	{"outputs: one more tag", func(t *testing.T, tr map[string]any) {
		b := fileBuildOf(t, tr, appARM)
		b["outputs"] = append(b["outputs"].([]any), map[string]any{"type": "registry", "name": "evil.example/x:1"})
	}, `app (linux/arm64): outputs[2]: the plan file has {"name":"evil.example/x:1","type":"registry"}, the spec does not produce it`},
	{"platforms: a build removed", func(t *testing.T, tr map[string]any) {
		var keep []any
		for _, b := range tr["builds"].([]any) {
			if b.(map[string]any)["id"] != appARM {
				keep = append(keep, b)
			}
		}
		tr["builds"] = keep
	}, "app (linux/arm64): the spec produces it, the plan file lacks it"},
	{"platforms: a build added", func(t *testing.T, tr map[string]any) {
		b := deepCopy(fileBuildOf(t, tr, appAMD)).(map[string]any)
		b["id"], b["platform"] = "app/linux/s390x", "linux/s390x"
		tr["builds"] = append(tr["builds"].([]any), b)
	}, "app (linux/s390x): the plan file has it, the spec does not produce it"},
	{"platforms: a build's platform", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appAMD)["platform"] = "linux/arm64"
	}, `app (linux/amd64): platform: the plan file says "linux/arm64", the spec gives "linux/amd64"`},
	{"platforms: definitions swapped between platforms", func(t *testing.T, tr map[string]any) {
		swapKeys(fileBuildOf(t, tr, appAMD), fileBuildOf(t, tr, appARM), "definition", "definition_digest", "llb_digest", "ops", "image_config", "config_digest", "pinned_bases", "bases")
	}, "app (linux/amd64): bases[0].platform"},
	{"platforms: builds reordered", func(t *testing.T, tr map[string]any) {
		bs := tr["builds"].([]any)
		bs[0], bs[1] = bs[1], bs[0]
	}, "builds: in another order than the spec's"},
	{"build_platform", func(_ *testing.T, tr map[string]any) {
		tr["build_platform"] = "linux/arm64" // an input: the spec compiled for it differs from the file
	}, "base (linux/amd64): definition: the plan file says sha256:"},
	{"args", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, "base/linux/amd64"), "args")["ALPINE_VERSION"] = "3.19"
	}, `base (linux/amd64): args.ALPINE_VERSION: the plan file says "3.19", the spec gives "3.20"`},
	{"args: one more", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, "base/linux/amd64"), "args")["HTTP_PROXY"] = "http://evil.example"
	}, `base (linux/amd64): args.HTTP_PROXY: the plan file has it, the spec does not produce it`},
	{"labels", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, appARM), "labels")["org.opencontainers.image.title"] = "evil"
	}, `app (linux/arm64): labels.org.opencontainers.image.title: the plan file says "evil", the spec gives "app"`},
	{"target", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, "base/linux/arm64")["target"] = "debug"
	}, `base (linux/arm64): target: the plan file says "debug", the spec gives "runtime"`},
	{"dockerfile", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appAMD)["dockerfile"] = "static/Dockerfile"
	}, `app (linux/amd64): dockerfile: the plan file says "static/Dockerfile", the spec gives "app/Dockerfile"`},
	{"component", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appAMD)["component"] = "static"
	}, `app (linux/amd64): component: the plan file says "static", the spec gives "app"`},
	{"depends_on", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appAMD)["depends_on"] = []any{}
	}, `app (linux/amd64): depends_on[0]: missing from the plan file, the spec gives "base/linux/amd64"`},
	{"contexts: a local context's directory", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, appAMD), "local_contexts", 0)["Path"] = "static"
	}, `app (linux/amd64): local_contexts[0].Path: the plan file says "static", the spec gives "assets"`},
	{"contexts: a local context's session name", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, appAMD), "local_contexts", 0)["LocalName"] = "archc:static"
	}, `app (linux/amd64): local_contexts[0].LocalName: the plan file says "archc:static", the spec gives "archc:assets"`},
	{"contexts: a content digest", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, appAMD), "local_contexts", 1)["Digest"] = digest.FromString("other").String()
	}, `app (linux/amd64): local_contexts[1].Digest: the plan file says "` + digest.FromString("other").String()},
	{"contexts: the excludes", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, "base/linux/amd64"), "local_contexts", 0)["Excludes"] = []any{"*"}
	}, `base (linux/amd64): local_contexts[0].Excludes[0]: the plan file says "*", the spec gives "*.bak"`},
	{"contexts: as shown", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, appAMD), "contexts", 0)["path"] = "elsewhere"
	}, `app (linux/amd64): contexts[0].path: the plan file says "elsewhere", the spec gives "assets"`},
	{"bases: a pinned digest", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, "base/linux/arm64"), "pinned_bases", 0)["Digest"] = digest.FromString("evil").String()
	}, `base (linux/arm64): pinned_bases[0].Digest: the plan file says "` + digest.FromString("evil").String()},
	{"bases: the host", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, "base/linux/arm64"), "pinned_bases", 0)["Host"] = "evil.example"
	}, `base (linux/arm64): pinned_bases[0].Host: the plan file says "evil.example", the spec gives "127.0.0.1:5000"`},
	{"bases: as shown", func(t *testing.T, tr map[string]any) {
		at(fileBuildOf(t, tr, "base/linux/arm64"), "bases", 1)["ref"] = "docker.io/evil/alpine:3.20"
	}, `base (linux/arm64): bases[1].ref: the plan file says "docker.io/evil/alpine:3.20", the spec gives "docker.io/library/golang:1.22"`},
	{"bases: resolved (what the planning run did)", func(t *testing.T, tr map[string]any) {
		b := fileBuildOf(t, tr, "base/linux/arm64")
		at(b, "pinned_bases", 0)["Resolved"] = true
		at(b, "bases", 0)["resolved"] = true
	}, ""},
	{"lock: a pin", func(_ *testing.T, tr map[string]any) {
		at(tr, "lock", 0)["digest"] = digest.FromString("evil").String()
	}, `lock[docker.io/library/alpine:3.20 linux/amd64].digest: the plan file says "` + digest.FromString("evil").String()},
	{"lock: a pin removed", func(_ *testing.T, tr map[string]any) {
		tr["lock"] = tr["lock"].([]any)[1:]
	}, "lock[docker.io/library/alpine:3.20 linux/amd64]: the spec produces it, the plan file lacks it; run"},
	{"definition: a build's, from another build", func(t *testing.T, tr map[string]any) {
		swapKeys(fileBuildOf(t, tr, "base/linux/amd64"), fileBuildOf(t, tr, "base/linux/arm64"), "definition", "definition_digest", "llb_digest", "ops")
	}, "base (linux/amd64): definition: the plan file says sha256:"},
	{"definition: no_cache on every op (metadata, outside llb_digest)", func(t *testing.T, tr map[string]any) {
		withDefinition(t, fileBuildOf(t, tr, appAMD), func(def *pb.Definition) {
			for _, m := range def.Metadata {
				m.IgnoreCache = true
			}
		})
	}, "app (linux/amd64): definition: the plan file says sha256:"},
	{"definition: edited, checksum kept", func(t *testing.T, tr map[string]any) {
		b := fileBuildOf(t, tr, appAMD)
		b["definition"] = fileBuildOf(t, tr, appARM)["definition"]
	}, "app/linux/amd64: definition does not match its checksum (file edited?)"},
	{"image_config: another build's, with its digest", func(t *testing.T, tr map[string]any) {
		swapKeys(fileBuildOf(t, tr, "base/linux/amd64"), fileBuildOf(t, tr, "base/linux/arm64"), "image_config", "config_digest")
	}, "base (linux/amd64): config_digest: the plan file says"},
	{"image_config: edited, digest kept", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appAMD)["image_config"] = base64.StdEncoding.EncodeToString([]byte(`{"config":{"Entrypoint":["/evil"]}}`))
	}, "app/linux/amd64: image config does not match config_digest"},
	{"ops", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appAMD)["ops"] = 1
	}, "app (linux/amd64): ops: the plan file says 1, the spec gives"},
	{"spec_digest", func(_ *testing.T, tr map[string]any) {
		tr["spec_digest"] = digest.FromString("other spec").String()
	}, `spec_digest: the plan file says "` + digest.FromString("other spec").String()},
	{"warnings", func(_ *testing.T, tr map[string]any) {
		tr["warnings"] = []any{"all good"}
	}, `warnings[0]: the plan file says "all good", the spec gives "base: base/Dockerfile asks for frontend`},
	{"a field archc does not write: cache_to", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appAMD)["cache_to"] = []any{"type=registry,ref=evil.example/cache"}
	}, "app (linux/amd64): cache_to: the plan file has it, the spec does not produce it"},
	{"a field archc does not write, top level: builder", func(_ *testing.T, tr map[string]any) {
		tr["builder"] = "tcp://evil.example:1234"
	}, "builder: the plan file has it, the spec does not produce it"},
	{"builders: a build routed to a builder the spec does not name", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, appARM)["builders"] = []any{"evil"}
	}, "app (linux/arm64): builders: the plan file has it, the spec does not produce it"},
	{"cache_from: an import the spec does not ask for", func(t *testing.T, tr map[string]any) {
		fileBuildOf(t, tr, "base/linux/amd64")["cache_from"] = []any{"type=registry,ref=evil.example/cache"}
	}, "base (linux/amd64): cache_from: the plan file has it, the spec does not produce it"},
	{"proxy (shown only, never used)", func(_ *testing.T, tr map[string]any) {
		tr["proxy"] = map[string]any{"http_proxy": "http://evil.example:3128"}
	}, ""},
	{"base_content: content edited", func(_ *testing.T, tr map[string]any) {
		tr["base_content"] = map[string]any{digest.FromString("a").String(): base64.StdEncoding.EncodeToString([]byte("b"))}
	}, "base_content: " + digest.FromString("a").String() + " does not match its content"},
	{"format version", func(_ *testing.T, tr map[string]any) {
		tr["archc_plan_file"] = "archc-plan-file/0"
	}, "run archc plan -out again"},
}

// TestPlanFileTampered: one edit per field of a saved plan file; each is refused, naming
// the build and the field with the file's value and the spec's, or accepted for the
// fields that say nothing about what is built or where it goes.
func TestPlanFileTampered(t *testing.T) {
	t.Parallel()
	for _, tc := range planFileTampers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, path := savedPlanFile(t)
			editPlanFile(t, path, tc.edit)
			f, err := LoadPlanFile(path)
			if err == nil {
				var plan *Plan
				plan, err = f.Match(context.Background(), s, newFakeImages())
				if err == nil {
					assert.Equal(t, compileProject(t, s.Dir).JSON(nil), plan.JSON(nil), "the plan to build is the spec's")
				}
			}
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			if errors.Is(err, ErrMismatch) {
				assert.Contains(t, err.Error(), "run `archc plan -out` again")
			}
		})
	}
}
