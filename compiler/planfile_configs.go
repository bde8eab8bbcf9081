package compiler

import (
	"fmt"
	"path/filepath"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
)

// CarryBaseContent adds to the plan file, from cache (where plan left them), the content
// of each pin the plan uses, as the lock next to s names it: the image config, which apply
// FILE needs to compile the spec again, and the index and platform manifest, which it needs
// to check the lock against content (registry's VerifyLock). A runner with a cold cache
// then applies a plan file without asking a registry for anything but the layers. The
// config must be cached; an index or manifest that is not is left for apply to fetch.
func (f *PlanFile) CarryBaseContent(s *spec.Spec, cache *registry.Cache) error {
	lock, err := registry.ReadLock(filepath.Join(s.Dir, registry.LockFileName))
	if err != nil {
		return err
	}
	for _, e := range f.Lock {
		im := lock.Find(e.Ref)
		var pi *registry.PlatformImage
		if im != nil {
			pi = im.Platform(e.Platform)
		}
		if pi == nil {
			return fmt.Errorf("carry the content of %s (%s): not pinned in %s", e.Ref, e.Platform, registry.LockFileName)
		}
		for _, d := range []digest.Digest{pi.Config, pi.Manifest, im.Digest} {
			dt, err := cache.Get(d)
			if err != nil && d == pi.Config {
				return fmt.Errorf("carry the image config of %s (%s): %w", e.Ref, e.Platform, err)
			}
			if err == nil {
				if f.BaseContent == nil {
					f.BaseContent = map[digest.Digest][]byte{}
				}
				f.BaseContent[d] = dt
			}
		}
	}
	return nil
}

// seedCache puts into cache the carried content of the digests the lock names that cache
// lacks: the file's copy is only ever used as the content of a digest the lock gives (and
// Put checks that it is).
func (f *PlanFile) seedCache(lock *registry.Lock, cache *registry.Cache) error {
	for _, im := range lock.Images {
		named := []digest.Digest{im.Digest}
		for _, pi := range im.Platforms {
			named = append(named, pi.Manifest, pi.Config)
		}
		for _, d := range named {
			dt, ok := f.BaseContent[d]
			if !ok || cache.Has(d) {
				continue
			}
			if err := cache.Put(d, dt); err != nil {
				return fmt.Errorf("content of %s from the plan file: %w", im.Ref, err)
			}
		}
	}
	return nil
}
