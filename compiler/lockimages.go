package compiler

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/archc-dev/archc/registry"
	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// LockImages answers Images from a lock and the registry content cache: no network.
type LockImages struct {
	lock     *registry.Lock
	cache    *registry.Cache
	resolved map[string]bool // "ref platform" pins this run resolved because the lock lacked them
}

// NewLockImages serves pins from lock with image configs from cache.
func NewLockImages(lock *registry.Lock, cache *registry.Cache) *LockImages {
	return &LockImages{lock: lock, cache: cache, resolved: map[string]bool{}}
}

// Image implements Images.
func (l *LockImages) Image(_ context.Context, ref string, p ocispecs.Platform) (Image, error) {
	plat := platforms.Format(platforms.Normalize(p))
	im := l.lock.Find(ref)
	if im == nil {
		return Image{}, fmt.Errorf("%s is not in %s (run `archc lock`)", ref, registry.LockFileName)
	}
	pi := im.Platform(plat)
	if pi == nil {
		return Image{}, fmt.Errorf("%s has no %s pin in %s (run `archc lock`)", ref, plat, registry.LockFileName)
	}
	cfg, err := l.cache.Get(pi.Config)
	if err != nil {
		return Image{}, fmt.Errorf("image config %s of %s (%s): %w (run `archc lock` to fetch it)", pi.Config, ref, plat, err)
	}
	return Image{Digest: pi.Manifest, Config: cfg, Host: im.Host, Resolved: l.resolved[im.Ref+" "+plat]}, nil
}

// Lock is the lock the images come from (after Pin, possibly with new pins to write).
func (l *LockImages) Lock() *registry.Lock { return l.lock }

// LockStatus is how a lock compares with the base images a spec needs.
type LockStatus struct {
	// Missing are "ref (platform)" pins the spec needs and the lock lacks.
	Missing []string
	// Stale are refs the lock pins and no component uses any more.
	Stale []string
}

// OK reports whether the lock is exactly what the spec needs.
func (s LockStatus) OK() bool { return len(s.Missing) == 0 && len(s.Stale) == 0 }

func (s LockStatus) String() string {
	var parts []string
	if len(s.Missing) > 0 {
		parts = append(parts, "missing "+strings.Join(s.Missing, ", "))
	}
	if len(s.Stale) > 0 {
		parts = append(parts, "no longer used "+strings.Join(s.Stale, ", "))
	}
	return strings.Join(parts, "; ")
}

// CheckLock compares lock with reqs without network.
func CheckLock(lock *registry.Lock, reqs []registry.ImageRequest) LockStatus {
	var st LockStatus
	used := map[string]bool{}
	for _, r := range reqs {
		used[r.Ref] = true
		im := lock.Find(r.Ref)
		for _, p := range r.Platforms {
			if im == nil || im.Platform(p) == nil {
				st.Missing = append(st.Missing, fmt.Sprintf("%s (%s)", r.Ref, p))
			}
		}
	}
	for _, im := range lock.Images {
		if !used[im.Ref] {
			st.Stale = append(st.Stale, im.Ref)
		}
	}
	sort.Strings(st.Missing)
	sort.Strings(st.Stale)
	return st
}

// Pin makes lock cover reqs, as `archc lock` would without --update: pins are never moved.
// With locked, a missing or stale pin is an error (for CI). Otherwise missing pins are
// resolved through res (the only network use; res may be nil when none is needed), and
// image configs missing from the cache are fetched by digest. The returned changes say what
// differs from lock; the caller writes LockImages.Lock() when there are any.
func Pin(ctx context.Context, lock *registry.Lock, cache *registry.Cache, reqs []registry.ImageRequest, res *registry.Resolver, locked bool) (*LockImages, []registry.LockChange, error) {
	st := CheckLock(lock, reqs)
	if locked && !st.OK() {
		return nil, nil, fmt.Errorf("--locked: %s is out of date: %s; run `archc lock` and commit it", registry.LockFileName, st)
	}
	if len(st.Missing) == 0 && configsCached(lock, cache, reqs) {
		return NewLockImages(lock, cache), nil, nil
	}
	if res == nil {
		return nil, nil, fmt.Errorf("%s: %s, and no resolver to fetch them", registry.LockFileName, st)
	}
	next, changes, err := res.UpdateLock(ctx, lock, reqs, registry.LockOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("resolve pins missing from %s: %w", registry.LockFileName, err)
	}
	li := NewLockImages(next, cache)
	var changed []registry.LockChange
	for _, ch := range changes {
		switch ch.Kind {
		case registry.ChangeAdded:
			if im := next.Find(ch.Ref); im != nil {
				for _, p := range im.Platforms {
					li.resolved[im.Ref+" "+p.Platform] = true
				}
			}
			changed = append(changed, ch)
		case registry.ChangePlatforms:
			for _, p := range ch.Platforms {
				li.resolved[ch.Ref+" "+p] = true
			}
			changed = append(changed, ch)
		case registry.ChangeRemoved:
			changed = append(changed, ch)
		}
	}
	return li, changed, nil
}

// configsCached reports whether every needed image config is in the cache.
func configsCached(lock *registry.Lock, cache *registry.Cache, reqs []registry.ImageRequest) bool {
	for _, r := range reqs {
		im := lock.Find(r.Ref)
		for _, p := range r.Platforms {
			if pi := im.Platform(p); pi == nil || !cache.Has(pi.Config) {
				return false
			}
		}
	}
	return true
}
