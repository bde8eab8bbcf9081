package compiler

import (
	"context"
	"fmt"
	"sync"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// LockImages answers Images from a lock and the registry content cache: no network.
type LockImages struct {
	lock     *registry.Lock
	cache    *registry.Cache
	resolved map[string]bool // "ref platform" pins this run resolved because the lock lacked them
	// configs memoizes image configs read (and verified) from cache: builds share bases.
	configs sync.Map // digest.Digest → []byte
}

// NewLockImages serves pins from lock with image configs from cache.
func NewLockImages(lock *registry.Lock, cache *registry.Cache) *LockImages {
	return &LockImages{lock: lock, cache: cache, resolved: map[string]bool{}}
}

// Image implements Images.
func (l *LockImages) Image(_ context.Context, ref string, p ocispecs.Platform) (Image, error) {
	plat := spec.FormatPlatform(p)
	im := l.lock.Find(ref)
	if im == nil {
		return Image{}, fmt.Errorf("%s is not in %s (run `archc lock`)", ref, registry.LockFileName)
	}
	pi := im.Platform(plat)
	if pi == nil {
		return Image{}, fmt.Errorf("%s has no %s pin in %s (run `archc lock`)", ref, plat, registry.LockFileName)
	}
	cfg, err := l.config(pi.Config)
	if err != nil {
		return Image{}, fmt.Errorf("image config %s of %s (%s): %w (run `archc lock` to fetch it)", pi.Config, ref, plat, err)
	}
	return Image{Digest: pi.Manifest, Config: cfg, Host: im.Host, Resolved: l.resolved[im.Ref+" "+plat]}, nil
}

// config is the image config d from the content cache, read once.
func (l *LockImages) config(d digest.Digest) ([]byte, error) {
	if cfg, ok := l.configs.Load(d); ok {
		return cfg.([]byte), nil
	}
	cfg, err := l.cache.Get(d)
	if err != nil {
		return nil, err
	}
	l.configs.Store(d, cfg)
	return cfg, nil
}

// Lock is the lock the images come from (after Pin, possibly with new pins to write).
func (l *LockImages) Lock() *registry.Lock { return l.lock }
