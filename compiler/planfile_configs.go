package compiler

import (
	"fmt"
	"path/filepath"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
)

// CarryBaseConfigs adds to the plan file the image config of each pin it uses, as the lock
// next to s names it, read from cache (where Prepare left it): apply FILE compiles the spec
// again to check the file, and a runner with a cold cache has no other copy.
func (f *PlanFile) CarryBaseConfigs(s *spec.Spec, cache *registry.Cache) error {
	lock, err := registry.ReadLock(filepath.Join(s.Dir, registry.LockFileName))
	if err != nil {
		return err
	}
	for _, e := range f.Lock {
		pi := lockPin(lock, e.Ref, e.Platform)
		if pi == nil {
			return fmt.Errorf("carry the image config of %s (%s): not pinned in %s", e.Ref, e.Platform, registry.LockFileName)
		}
		cfg, err := cache.Get(pi.Config)
		if err != nil {
			return fmt.Errorf("carry the image config of %s (%s): %w", e.Ref, e.Platform, err)
		}
		if f.BaseConfigs == nil {
			f.BaseConfigs = map[digest.Digest][]byte{}
		}
		f.BaseConfigs[pi.Config] = cfg
	}
	return nil
}

// seedConfigs puts into cache the carried configs that the lock names and cache lacks:
// the file's copy is only ever used as the content of a digest the lock gives.
func (f *PlanFile) seedConfigs(lock *registry.Lock, cache *registry.Cache) error {
	for _, im := range lock.Images {
		for _, pi := range im.Platforms {
			cfg, ok := f.BaseConfigs[pi.Config]
			if !ok || cache.Has(pi.Config) {
				continue
			}
			if err := cache.Put(pi.Config, cfg); err != nil {
				return fmt.Errorf("image config of %s (%s) from the plan file: %w", im.Ref, pi.Platform, err)
			}
		}
	}
	return nil
}

// lockPin is lock's pin of ref for platform, or nil.
func lockPin(lock *registry.Lock, ref, platform string) *registry.PlatformImage {
	if im := lock.Find(ref); im != nil {
		return im.Platform(platform)
	}
	return nil
}
