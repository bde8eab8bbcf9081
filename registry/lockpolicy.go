package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

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
func CheckLock(lock *Lock, reqs []ImageRequest) LockStatus {
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
	if lock != nil {
		for _, im := range lock.Images {
			if !used[im.Ref] {
				st.Stale = append(st.Stale, im.Ref)
			}
		}
	}
	sort.Strings(st.Missing)
	sort.Strings(st.Stale)
	return st
}

// OutOfDateError is a lock that does not pin exactly what the spec needs, when the caller
// asked that no pin be resolved (LockOptions.Locked).
type OutOfDateError struct {
	Status LockStatus
	// BuildPlatform is set when what is missing are pins for the platform that
	// `FROM --platform=$BUILDPLATFORM` stages run on here, of images the lock pins for other
	// platforms, and the spec's build_platforms does not list it: the lock was written on a
	// machine of another build platform (the caller, which knows the spec, sets it).
	BuildPlatform string
	// Declared are the spec's build_platforms (empty: none declared).
	Declared []string
	// Pinned are the build platforms the lock has those pins for (at most those Declared).
	Pinned []string
}

func (e *OutOfDateError) Error() string {
	msg := fmt.Sprintf("%s is out of date: %s", LockFileName, e.Status)
	if e.BuildPlatform != "" {
		msg += fmt.Sprintf(" (stages FROM --platform=$BUILDPLATFORM need pins for the build platform, %s, and the lock was written for %s)",
			e.BuildPlatform, orUnknown(e.Pinned))
	}
	return msg
}

// Hint says how to bring the lock up to date.
func (e *OutOfDateError) Hint() string {
	if e.BuildPlatform == "" {
		return "run `archc lock` and commit " + LockFileName
	}
	return fmt.Sprintf("declare every build platform your machines and CI runners use: build_platforms = [%s] in the spec, then run `archc lock` (it pins each of them) and commit %s; or plan for a build platform the lock has (%s)",
		quotedList(e.WantedBuildPlatforms()), LockFileName, orUnknown(e.Pinned))
}

// WantedBuildPlatforms are the build_platforms that would serve this machine and the
// lock's: the declared ones (or, with none, those the lock has) and BuildPlatform.
func (e *OutOfDateError) WantedBuildPlatforms() []string {
	out := slices.Clone(e.Declared)
	if len(out) == 0 {
		out = slices.Clone(e.Pinned)
	}
	out = append(out, e.BuildPlatform)
	slices.Sort(out)
	return slices.Compact(out)
}

// quotedList is `"a", "b"`, as HCL writes a list.
func quotedList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// orUnknown is l joined with " or ", or "another build platform" when empty.
func orUnknown(l []string) string {
	if len(l) == 0 {
		return "another build platform"
	}
	return strings.Join(l, " or ")
}

// UnusedImageError is a reference LockOptions.Images names that no component uses.
type UnusedImageError struct{ Ref string }

func (e *UnusedImageError) Error() string {
	return fmt.Sprintf("%s: no component uses this image", e.Ref)
}

// Pin makes lock cover reqs without moving any pin, as plan and apply need it: missing
// pins and platforms are resolved, image configs missing from the cache fetched by digest.
// With opts.Locked a missing or stale pin is an *OutOfDateError instead. A complete lock
// with every config cached is returned as it is, with no network use. Otherwise the
// changes are those a lock file would show (added pins, added platforms, removed pins),
// and the caller writes the returned lock.
func (r *Resolver) Pin(ctx context.Context, lock *Lock, reqs []ImageRequest, opts LockOptions) (*Lock, []LockChange, error) {
	st := CheckLock(lock, reqs)
	if opts.Locked && !st.OK() {
		return nil, nil, &OutOfDateError{Status: st}
	}
	if len(st.Missing) == 0 && configsCached(lock, r.cache, reqs) {
		return lock, nil, nil
	}
	next, changes, err := r.UpdateLock(ctx, lock, reqs, LockOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("resolve pins missing from %s: %w", LockFileName, err)
	}
	var changed []LockChange
	for _, ch := range changes {
		switch ch.Kind {
		case ChangeAdded, ChangePlatforms, ChangeRemoved:
			changed = append(changed, ch)
		}
	}
	return next, changed, nil
}

// configsCached reports whether every needed image config is in the cache.
func configsCached(lock *Lock, cache *Cache, reqs []ImageRequest) bool {
	for _, r := range reqs {
		im := lock.Find(r.Ref)
		for _, p := range r.Platforms {
			if im == nil {
				return false
			}
			if pi := im.Platform(p); pi == nil || !cache.Has(pi.Config) {
				return false
			}
		}
	}
	return true
}

// LockRecovery says how ReadLockFor got a lock from a file that does not parse.
type LockRecovery struct {
	// All is set when nothing of the file was usable: every pin is resolved again.
	All bool
	// Broken are the references whose blocks did not parse, resolved again.
	Broken []string
}

func (r LockRecovery) String() string {
	if r.All {
		return LockFileName + " does not parse; every pin is resolved again"
	}
	return fmt.Sprintf("%s: resolving broken pins again: %s", LockFileName, strings.Join(r.Broken, ", "))
}

// ReadLockFor reads the lock an update starts from. When opts.Update re-resolves every
// pin the file does not parse (all of them, or each broken one among opts.Images), a lock
// with broken entries need not be mended by hand: it returns what parsed and says what is
// resolved again. Otherwise a broken lock is ReadLock's *LockError.
func ReadLockFor(path string, opts LockOptions) (*Lock, *LockRecovery, error) {
	old, err := ReadLock(path)
	var le *LockError
	if err == nil || !opts.Update || !errors.As(err, &le) {
		return old, nil, err
	}
	if le.Partial == nil {
		if len(opts.Images) > 0 {
			return nil, nil, err
		}
		return &Lock{}, &LockRecovery{All: true}, nil
	}
	named := map[string]bool{}
	for _, ref := range opts.Images {
		if n, nerr := NormalizeRef(ref); nerr == nil {
			named[n] = true
		}
	}
	for _, ref := range le.Broken {
		if len(opts.Images) > 0 && !named[ref] {
			return nil, nil, err
		}
	}
	return le.Partial, &LockRecovery{Broken: le.Broken}, nil
}
