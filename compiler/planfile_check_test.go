package compiler

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pinnedProject is the test project in a copy with a lock whose pins agree with their
// content (an index listing one manifest per platform, each naming its config), all of it
// in the cache at the returned directory and nowhere else: registries are unreachable.
func pinnedProject(t *testing.T) (*spec.Spec, string) {
	t.Helper()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	// Every registry request fails at once: the checks must work from content alone.
	s.Registries = []spec.Registry{{Host: "docker.io", Mirrors: []string{"http://127.0.0.1:9"}, MirrorsOnly: true}}
	cacheDir := t.TempDir()
	cache, err := registry.OpenCache(cacheDir)
	require.NoError(t, err)
	put := func(v any) (digest.Digest, int64) {
		dt, err := json.Marshal(v)
		require.NoError(t, err)
		d := digest.FromBytes(dt)
		require.NoError(t, cache.Put(d, dt))
		return d, int64(len(dt))
	}
	reqs, _, err := DiscoverBases(context.Background(), s, WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	lock := &registry.Lock{}
	for _, r := range reqs {
		idx := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex}
		idx.SchemaVersion = 2
		im := registry.Image{Ref: r.Ref, Host: "127.0.0.1:5000"}
		for _, ps := range r.Platforms {
			p := platforms.MustParse(ps)
			cfgDigest, cfgSize := put(ocispecs.Image{Platform: p, RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{digest.FromString(r.Ref + ps)}}})
			m := ocispecs.Manifest{MediaType: ocispecs.MediaTypeImageManifest, Config: ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageConfig, Digest: cfgDigest, Size: cfgSize}, Layers: []ocispecs.Descriptor{}}
			m.SchemaVersion = 2
			md, size := put(m)
			idx.Manifests = append(idx.Manifests, ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageManifest, Digest: md, Size: size, Platform: &p})
			im.Platforms = append(im.Platforms, registry.PlatformImage{Platform: ps, Manifest: md, Config: cfgDigest})
		}
		im.Digest, _ = put(idx)
		lock.Set(im)
	}
	require.NoError(t, registry.WriteLock(filepath.Join(dir, registry.LockFileName), lock))
	return s, cacheDir
}

// resolverFor is a resolver for s on the cache at dir that gives up quickly.
func resolverFor(t *testing.T, s *spec.Spec, dir string) *registry.Resolver {
	t.Helper()
	cache, err := registry.OpenCache(dir)
	require.NoError(t, err)
	res, err := registry.NewResolver(s, cache, registry.WithTimeout(2*time.Second), registry.WithAttemptTimeout(time.Second))
	require.NoError(t, err)
	return res
}

// TestPlanFileCheck: apply FILE's workflow, from the lock and content. A plan file made
// where the cache is warm is checked on a runner whose cache is cold, from the content it
// carries and without a registry; the lock is checked against that content too.
func TestPlanFileCheck(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(t *testing.T, s *spec.Spec, planPath string)
		carry bool
		want  string
	}{
		{"untouched, cold cache", func(*testing.T, *spec.Spec, string) {}, true, ""},
		{"outputs edited", func(t *testing.T, _ *spec.Spec, path string) {
			editPlanFile(t, path, func(t *testing.T, tr map[string]any) {
				at(fileBuildOf(t, tr, appAMD), "outputs", 0)["name"] = "registry.invalid/evil/x:1"
			})
		}, true, `the plan file is not what the spec produces: app (linux/amd64): outputs[0].name: the plan file says "registry.invalid/evil/x:1", the spec gives "registry.invalid/app:dev"`},
		{"a context changed: stale, not edited", func(t *testing.T, s *spec.Spec, _ string) {
			write(t, filepath.Join(s.Dir, "assets", "index.html"), "changed")
		}, true, "plan is stale: context assets changed (used by app/linux/amd64, app/linux/arm64)"},
		{"the spec changed", func(t *testing.T, s *spec.Spec, _ string) {
			s.Components[0].Args = map[string]string{"ALPINE_VERSION": "3.19"}
		}, true, "plan is stale: the spec changed"},
		{"lock and plan file edited alike: two manifests swapped", func(*testing.T, *spec.Spec, string) {}, true,
			"docker.io/library/alpine:3.20: linux/amd64 manifest"},
		{"no content carried, cold cache, no registry", func(*testing.T, *spec.Spec, string) {}, false,
			"check the pins of archbuild.lock.hcl against their content: docker.io/library/alpine@sha256:"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, warm := pinnedProject(t)
			lockPath := filepath.Join(s.Dir, registry.LockFileName)
			lock, err := registry.ReadLock(lockPath)
			require.NoError(t, err)
			if strings.Contains(tc.name, "swapped") {
				// As an attacker would: the lock edited, and a plan file made from it by
				// a build of archc that does not check the lock.
				im := *lock.Find("docker.io/library/alpine:3.20")
				im.Platforms = append([]registry.PlatformImage(nil), im.Platforms...)
				im.Platforms[0].Manifest, im.Platforms[1].Manifest = im.Platforms[1].Manifest, im.Platforms[0].Manifest
				lock.Set(im)
				require.NoError(t, registry.WriteLock(lockPath, lock))
			}
			cache, err := registry.OpenCache(warm)
			require.NoError(t, err)
			plan, err := Compile(context.Background(), s, NewLockImages(lock, cache), WithBuildPlatform("linux/amd64"))
			require.NoError(t, err)
			pf := NewPlanFile(plan, s.Files)
			if tc.carry {
				require.NoError(t, pf.CarryBaseContent(s, cache))
				assert.Len(t, pf.BaseContent, 3+2*5, "3 indexes, 5 manifests and 5 configs")
			}
			path := filepath.Join(s.Dir, "t.plan")
			require.NoError(t, pf.Save(path))
			tc.edit(t, s, path)

			f, err := LoadPlanFile(path)
			require.NoError(t, err)
			got, err := f.Check(context.Background(), s, resolverFor(t, s, t.TempDir()))
			if tc.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, plan.JSON(nil), got.JSON(nil))
		})
	}
}
