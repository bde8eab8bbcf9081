package compiler

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/platforms"

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
	// Selection is what to build (Plan.Select). The whole spec is compiled and pinned
	// all the same: the lock stays complete, and Locked checks all of it.
	Selection Selection
}

// Prepare is plan's and apply's workflow, pin then compile: it compiles s once (through the
// compile cache in the resolver's cache directory, so unchanged builds are read, not
// compiled) against the lock next to it (archbuild.lock.hcl in s.Dir), which also discovers the bases; it checks
// the pins the spec uses against content (registry's VerifyLock: a contradiction is an
// error and nothing is written); when the lock lacks pins or the cache configs, it pins
// them without moving any (registry's lock policy), writes the lock and compiles again.
// The changes are what it wrote to the lock, which it writes only once the plan succeeded:
// a plan that fails (compile, selection) leaves the lock as it was, and returns no changes.
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
	cc := newCompileCache(filepath.Join(cache.Dir(), "compile"))
	first := &pinnedOrStandIn{pinned: NewLockImages(lock, cache)}
	plan, err := compileWith(ctx, s, first, cc, o.Compile...)
	if err != nil {
		return nil, nil, err
	}
	if err := checkContextKeys(s, plan); err != nil {
		return nil, nil, err
	}
	reqs := baseRequests(plan)
	// Before any pin is used or written: the lock may have been edited to build something else.
	if err := o.Resolver.VerifyLock(ctx, lock, reqs); err != nil {
		return nil, nil, err
	}
	next, changes, err := o.Resolver.Pin(ctx, lock, reqs, registry.LockOptions{Locked: o.Locked})
	if err != nil {
		return nil, nil, locateBaseErrors(explainBuildPlatform(err, s, plan, lock), plan, lock)
	}
	if first.missed {
		if plan, err = recompile(ctx, s, next, changes, cache, cc, o.Compile); err != nil {
			return nil, nil, err
		}
	}
	// The lock is written only for a plan that succeeded: a failed plan leaves it as it was.
	if err := plan.Select(s, o.Selection); err != nil {
		return nil, nil, err
	}
	if len(changes) > 0 {
		if err := registry.WriteLock(lockPath, next); err != nil {
			return nil, nil, err
		}
	}
	return plan, changes, nil
}

// recompile compiles s again against the new pins (the first compile used stand-ins for
// the missing ones), marking the pins changes added as resolved now.
func recompile(ctx context.Context, s *spec.Spec, next *registry.Lock, changes []registry.LockChange, cache *registry.Cache, cc *compileCache, copts []Option) (*Plan, error) {
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
	return compileWith(ctx, s, images, cc, copts...)
}

// Lock is `archc lock`'s workflow: it discovers the bases (DiscoverBases) for every build
// platform the spec declares (lockBuildPlatforms), reads the lock
// next to s (recovering from broken entries that opts.Update resolves again:
// registry.ReadLockFor), checks the pins it keeps against content (registry's VerifyLock),
// pins per opts (registry's UpdateLock) and, unless opts.DryRun, writes the lock. On a
// contradicted pin or a resolution error the file on disk is left as it was. Its errors
// are plan's: a contexts key typo is caught before anything is pulled (checkContextKeys),
// and bases that cannot be resolved are located in the Dockerfiles (locateBaseErrors).
func Lock(ctx context.Context, s *spec.Spec, res *registry.Resolver, opts registry.LockOptions, copts ...Option) (*registry.Lock, []registry.LockChange, *registry.LockRecovery, error) {
	reqs, plan, err := discoverForBuildPlatforms(ctx, s, copts)
	if err != nil {
		return nil, nil, nil, err
	}
	// Before anything is pulled: a contexts key typo would otherwise be pulled as an image.
	if err := checkContextKeys(s, plan); err != nil {
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
		return nil, nil, recovered, locateBaseErrors(err, plan, old)
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

// lockBuildPlatforms are the build platforms `archc lock` pins $BUILDPLATFORM stages for:
// the spec's build_platforms, and the compile's build platform when it was set to another
// one than this machine's (--build-platform); with no build_platforms, the compile's. A lock
// written on one machine then serves plan --locked on builders of every declared platform.
func lockBuildPlatforms(s *spec.Spec, copts []Option) ([]string, error) {
	o, err := makeOptions(copts)
	if err != nil {
		return nil, err
	}
	given := platforms.Format(o.buildPlatform)
	if len(s.BuildPlatforms) == 0 {
		return []string{given}, nil
	}
	out := make([]string, 0, len(s.BuildPlatforms)+1)
	for _, p := range s.BuildPlatforms {
		out = append(out, spec.NormalizePlatform(p))
	}
	host, _ := makeOptions(nil)
	if given != platforms.Format(host.buildPlatform) && !slices.Contains(out, given) {
		out = append(out, given)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// discoverForBuildPlatforms is DiscoverBases once per lock build platform, the requests
// merged: a ref's platforms are every platform any of the compiles pinned it for. The plan
// holds the builds of every compile, for locating errors in them (checkContextKeys,
// locateBaseErrors); it is not a plan to apply.
func discoverForBuildPlatforms(ctx context.Context, s *spec.Spec, copts []Option) ([]registry.ImageRequest, *Plan, error) {
	bps, err := lockBuildPlatforms(s, copts)
	if err != nil {
		return nil, nil, err
	}
	var merged *Plan
	for _, bp := range bps {
		_, plan, err := DiscoverBases(ctx, s, append(slices.Clone(copts), WithBuildPlatform(bp))...)
		if err != nil {
			if len(bps) > 1 {
				return nil, nil, fmt.Errorf("build platform %s: %w", bp, err)
			}
			return nil, nil, err
		}
		if merged == nil {
			merged = plan
			continue
		}
		merged.Builds = append(merged.Builds, plan.Builds...)
	}
	return baseRequests(merged), merged, nil
}

// explainBuildPlatform adds to a --locked refusal (*registry.OutOfDateError) what it is
// when the lock lacks pins for this plan's build platform of images it pins for others,
// and the spec's build_platforms does not list it: a lock written on a machine of another
// build platform, which `archc lock` here would not mend for the other machine.
func explainBuildPlatform(err error, s *spec.Spec, plan *Plan, lock *registry.Lock) error {
	var ood *registry.OutOfDateError
	if !errors.As(err, &ood) || slices.Contains(s.BuildPlatforms, plan.BuildPlatform) {
		return err
	}
	suffix := " (" + plan.BuildPlatform + ")"
	var pinned []string // the platforms the lock pins for every such image
	found := false
	for _, m := range ood.Status.Missing {
		ref, ok := strings.CutSuffix(m, suffix)
		if !ok {
			continue
		}
		im := lock.Find(ref)
		if im == nil {
			return err // a new image, not another machine's lock
		}
		var ps []string
		for _, pi := range im.Platforms {
			ps = append(ps, pi.Platform)
		}
		if !found {
			pinned, found = ps, true
		} else {
			pinned = slices.DeleteFunc(pinned, func(p string) bool { return !slices.Contains(ps, p) })
		}
	}
	if !found {
		return err
	}
	if len(s.BuildPlatforms) > 0 {
		pinned = slices.DeleteFunc(pinned, func(p string) bool { return !slices.Contains(s.BuildPlatforms, p) })
	}
	ood.BuildPlatform = plan.BuildPlatform
	ood.Declared = slices.Clone(s.BuildPlatforms)
	ood.Pinned = pinned
	return err
}
