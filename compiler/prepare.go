package compiler

import (
	"context"
	"errors"
	"path/filepath"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// PrepareOptions configure Prepare.
type PrepareOptions struct {
	// Resolver resolves the pins the lock lacks and fetches the image configs the content
	// cache lacks; the configs are read from its cache. Required; it touches the network
	// only when the lock is incomplete or the cache cold.
	Resolver *registry.Resolver
	// Locked refuses a lock that lacks a pin or keeps an unused one (a
	// *registry.OutOfDateError) instead of resolving: for CI.
	Locked bool
	// Compile are the compile's options (WithBuildPlatform).
	Compile []Option
}

// Prepare is plan's and apply's workflow, pin then compile: it compiles s once against the
// lock next to it (archbuild.lock.hcl in s.Dir), which also discovers the bases; it checks
// the pins the spec uses against content (registry's VerifyLock: a contradiction is an
// error and nothing is written); when the lock lacks pins or the cache configs, it pins
// them without moving any (registry's lock policy), writes the lock and compiles again.
// The changes are what it wrote to the lock; they come back with a compile error too, the
// lock being written by then.
func Prepare(ctx context.Context, s *spec.Spec, o PrepareOptions) (*Plan, []registry.LockChange, error) {
	if o.Resolver == nil {
		return nil, nil, errors.New("prepare: no resolver")
	}
	lockPath := filepath.Join(s.Dir, registry.LockFileName)
	lock, err := registry.ReadLock(lockPath)
	if err != nil {
		return nil, nil, err
	}
	cache := o.Resolver.Cache()
	first := &pinnedOrStandIn{pinned: NewLockImages(lock, cache)}
	plan, err := Compile(ctx, s, first, o.Compile...)
	if err != nil {
		return nil, nil, err
	}
	reqs := baseRequests(plan)
	// Before any pin is used or written: the lock may have been edited to build something else.
	if err := o.Resolver.VerifyLock(ctx, lock, reqs); err != nil {
		return nil, nil, err
	}
	next, changes, err := o.Resolver.Pin(ctx, lock, reqs, registry.LockOptions{Locked: o.Locked})
	if err != nil {
		return nil, nil, err
	}
	if len(changes) > 0 {
		if err := registry.WriteLock(lockPath, next); err != nil {
			return nil, nil, err
		}
	}
	if !first.missed {
		return plan, changes, nil
	}
	images := NewLockImages(next, cache)
	for _, ch := range changes {
		switch ch.Kind {
		case registry.ChangeAdded:
			if im := next.Find(ch.Ref); im != nil {
				for _, p := range im.Platforms {
					images.resolved[im.Ref+" "+p.Platform] = true
				}
			}
		case registry.ChangePlatforms:
			for _, p := range ch.Platforms {
				images.resolved[ch.Ref+" "+p] = true
			}
		}
	}
	plan, err = Compile(ctx, s, images, o.Compile...)
	return plan, changes, err
}

// Lock is `archc lock`'s workflow: it discovers the bases (DiscoverBases), reads the lock
// next to s (recovering from broken entries that opts.Update resolves again:
// registry.ReadLockFor), checks the pins it keeps against content (registry's VerifyLock),
// pins per opts (registry's UpdateLock) and, unless opts.DryRun, writes the lock. On a
// contradicted pin or a resolution error the file on disk is left as it was.
func Lock(ctx context.Context, s *spec.Spec, res *registry.Resolver, opts registry.LockOptions, copts ...Option) (*registry.Lock, []registry.LockChange, *registry.LockRecovery, error) {
	reqs, _, err := DiscoverBases(ctx, s, copts...)
	if err != nil {
		return nil, nil, nil, err
	}
	lockPath := filepath.Join(s.Dir, registry.LockFileName)
	old, recovered, err := registry.ReadLockFor(lockPath, opts)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := res.VerifyLock(ctx, old, kept(reqs, opts)); err != nil {
		return nil, nil, recovered, err
	}
	next, changes, err := res.UpdateLock(ctx, old, reqs, opts)
	if err != nil {
		return nil, nil, recovered, err
	}
	if !opts.DryRun {
		if err := registry.WriteLock(lockPath, next); err != nil {
			return nil, nil, recovered, err
		}
	}
	return next, changes, recovered, nil
}

// kept are the requests whose pins opts keep: all of them without Update, none with a
// plain Update, the others with Update of some Images. Only kept pins are verified: a pin
// being moved is the way out of a contradicted one.
func kept(reqs []registry.ImageRequest, opts registry.LockOptions) []registry.ImageRequest {
	if !opts.Update {
		return reqs
	}
	moved := map[string]bool{}
	for _, ref := range opts.Images {
		if n, err := registry.NormalizeRef(ref); err == nil {
			moved[n] = true
		}
	}
	var out []registry.ImageRequest
	for _, r := range reqs {
		if len(moved) > 0 && !moved[r.Ref] {
			out = append(out, r)
		}
	}
	return out
}
