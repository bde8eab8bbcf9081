package solver

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/compiler/compilertest"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

func TestPushRecordRoundTrip(t *testing.T) {
	t.Parallel()
	recs := PushRecords(t.TempDir())
	id := digest.FromString("identity")
	rec := PushRecord{Identity: id.String(), Component: "app", Digest: digest.FromString("index").String(),
		Platforms: map[string]string{"linux/amd64": digest.FromString("m").String()},
		Tags:      []string{"127.0.0.1:5000/e2e/app:v1"}, Hosts: []string{"127.0.0.1:5000"}, PushedAt: time.Unix(1700000000, 0).UTC()}
	require.NoError(t, recs.Save(rec))
	got := recs.Load(id)
	require.NotNil(t, got)
	assert.Equal(t, rec, *got)

	assert.Nil(t, recs.Load(digest.FromString("other")), "no record")
	assert.Nil(t, PushRecords("").Load(id), "no directory")

	// A record is an optimisation: one that does not read back is no record.
	other := digest.FromString("corrupt")
	require.NoError(t, os.WriteFile(recs.path(other), []byte("{not json"), 0o644))
	assert.Nil(t, recs.Load(other))
	moved := rec
	moved.Identity = digest.FromString("else").String()
	require.NoError(t, recs.Save(moved))
	require.NoError(t, os.Rename(recs.path(digest.FromString("else")), recs.path(other)))
	assert.Nil(t, recs.Load(other), "a record under another identity's name")
}

func TestPushRecordsPrune(t *testing.T) {
	t.Parallel()
	recs := PushRecords(t.TempDir())
	old, fresh := digest.FromString("old"), digest.FromString("fresh")
	for _, id := range []digest.Digest{old, fresh} {
		require.NoError(t, recs.Save(PushRecord{Identity: id.String(), Component: "c", Digest: "sha256:x", Tags: []string{"r/c:1"}}))
	}
	long := time.Now().Add(-2 * pushRecordMaxAge)
	require.NoError(t, os.Chtimes(recs.path(old), long, long))
	require.NoError(t, os.Chtimes(recs.path(fresh), long, long))
	recs.Touch(fresh) // used by a run: kept
	recs.Prune(time.Now())
	assert.NoFileExists(t, recs.path(old))
	assert.FileExists(t, recs.path(fresh))
}

// identityBuild is a component's build with every field the identity covers set.
func identityBuild() compiler.Build {
	return compiler.Build{
		ID: "app/linux/amd64", Component: "app", Platform: "linux/amd64", Dockerfile: "app/Dockerfile",
		Args: map[string]string{"V": "1"}, Labels: map[string]string{"l": "1"},
		LLBDigest: digest.FromString("llb"), Ops: 3, ConfigDigest: digest.FromString("config"),
		Bases: []compiler.Base{{Ref: "docker.io/library/busybox:latest", Digest: digest.FromString("busybox"), Platform: "linux/amd64",
			Host: "127.0.0.1:5000"}},
		Contexts: []compiler.Context{{Name: "context", Path: "app", LocalName: "archc:app", Digest: digest.FromString("ctx")}},
		Outputs:  []compiler.Output{{Type: spec.OutputRegistry, Name: "127.0.0.1:5001/e2e/app:v1"}},
		Builders: []string{"local"},
	}
}

// TestPushIdentityChanges: every input of what is pushed changes the identity (so a
// record no longer matches and the build is solved); where things come from and run does
// not.
func TestPushIdentityChanges(t *testing.T) {
	t.Parallel()
	base, err := PushIdentity([]compiler.Build{identityBuild()}, nil)
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		edit    func(b *compiler.Build)
		changes bool
	}{
		{"llb digest", func(b *compiler.Build) { b.LLBDigest = digest.FromString("llb2") }, true},
		{"config digest", func(b *compiler.Build) { b.ConfigDigest = digest.FromString("config2") }, true},
		{"pin", func(b *compiler.Build) { b.Bases[0].Digest = digest.FromString("busybox2") }, true},
		{"platform", func(b *compiler.Build) { b.Platform, b.ID = "linux/arm64", "app/linux/arm64" }, true},
		{"tag", func(b *compiler.Build) { b.Outputs[0].Name = "127.0.0.1:5001/e2e/app:v2" }, true},
		{"another tag", func(b *compiler.Build) {
			b.Outputs = append(b.Outputs, compiler.Output{Type: spec.OutputRegistry, Name: "127.0.0.1:5001/e2e/app:latest"})
		}, true},
		{"context content", func(b *compiler.Build) { b.Contexts[0].Digest = digest.FromString("ctx2") }, true},
		{"label", func(b *compiler.Build) { b.Labels["l"] = "2" }, true},
		{"cache export", func(b *compiler.Build) { b.CacheTo = []string{"type=registry,ref=127.0.0.1:5001/cache/app"} }, true},
		{"no cache", func(b *compiler.Build) { b.NoCache = true }, true},
		{"entitlements", func(b *compiler.Build) { b.Entitlements = []string{"network.host"} }, true},
		{"secret ids", func(b *compiler.Build) { b.Secrets = map[string]string{"tok": "env"} }, true},
		{"pin served by another mirror", func(b *compiler.Build) { b.Bases[0].Host = "mirror.example" }, false},
		{"pin resolved this run", func(b *compiler.Build) { b.Bases[0].Resolved = true }, false},
		{"routed to other builders", func(b *compiler.Build) { b.Builders = []string{"arm-1", "arm-2"} }, false},
		{"local source name", func(b *compiler.Build) { b.Contexts[0].LocalName = "other" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := identityBuild()
			tc.edit(&b)
			got, err := PushIdentity([]compiler.Build{b}, nil)
			require.NoError(t, err)
			if tc.changes {
				assert.NotEqual(t, base, got)
			} else {
				assert.Equal(t, base, got)
			}
		})
	}
}

// TestPushIdentityFollowsDependencies: a component fed by another through a named
// context carries the other's graph in its LLB, so an edit to the dependency's context
// changes both identities (the dependent is rebuilt too), and nothing else's.
func TestPushIdentityFollowsDependencies(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, compilertest.Generate(dir, 3)) // c001 and c002 use c000 as their base
	identities := func() map[string]digest.Digest {
		s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
		require.False(t, diags.HasErrors(), diags.Error())
		lock, err := compilertest.WarmLock(s, filepath.Join(dir, ".cache"), "linux/amd64")
		require.NoError(t, err)
		cache, err := registry.OpenCache(filepath.Join(dir, ".cache"))
		require.NoError(t, err)
		p, err := compiler.Compile(context.Background(), s, compiler.NewLockImages(lock, cache), compiler.WithBuildPlatform("linux/amd64"))
		require.NoError(t, err)
		comps, err := pushedComponents(p, s.Scrubber(), PushRecords(""))
		require.NoError(t, err)
		out := map[string]digest.Digest{}
		for name, c := range comps {
			out[name] = c.identity
		}
		return out
	}
	before := identities()
	require.Len(t, before, 3)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c002", "main.go"), []byte("package main\n// edited\n"), 0o644))
	mid := identities()
	assert.Equal(t, before["c000"], mid["c000"])
	assert.Equal(t, before["c001"], mid["c001"])
	assert.NotEqual(t, before["c002"], mid["c002"], "its own context changed")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c000", "main.go"), []byte("package main\n// edited\n"), 0o644))
	after := identities()
	assert.NotEqual(t, mid["c000"], after["c000"])
	assert.NotEqual(t, mid["c001"], after["c001"], "c001's base changed")
	assert.NotEqual(t, mid["c002"], after["c002"], "c002's base changed")
}

func TestRegistryOnly(t *testing.T) {
	t.Parallel()
	reg := compiler.Output{Type: spec.OutputRegistry, Name: "r/x:1"}
	for _, tc := range []struct {
		name    string
		outputs []compiler.Output
		want    bool
	}{
		{"registry", []compiler.Output{reg}, true},
		{"cache-only", nil, false},
		{"oci", []compiler.Output{{Type: spec.OutputOCI, Path: "out.tar"}}, false},
		{"local", []compiler.Output{{Type: spec.OutputLocal, Path: "out"}}, false},
		{"docker", []compiler.Output{{Type: spec.OutputDocker, Name: "x:1"}}, false},
	} {
		assert.Equal(t, tc.want, registryOnly([]compiler.Build{{Outputs: tc.outputs}}), tc.name)
	}
	assert.False(t, registryOnly([]compiler.Build{{Outputs: []compiler.Output{reg}, NoCache: true}}), "no_cache")
	assert.False(t, registryOnly([]compiler.Build{{Outputs: []compiler.Output{reg}, NoCacheFilter: []string{"build"}}}), "no_cache_filter")
}
