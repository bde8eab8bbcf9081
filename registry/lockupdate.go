package registry

import (
	"context"
	"sort"
	"sync"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
)

// LockOptions says which pins UpdateLock may move.
type LockOptions struct {
	// Update re-resolves existing pins (all of them, or only Images).
	Update bool
	// Images limits Update to these references (any form; they are normalized).
	Images []string
	// CheckMoved re-resolves the tags of pins that are kept, to report a tag that now
	// points elsewhere (never moving the pin). `archc lock` sets it; `plan` does not, so a
	// complete lock with a warm cache needs no network.
	CheckMoved bool
	// Locked refuses a lock that lacks a pin the spec needs or keeps one it does not (Pin
	// returns an *OutOfDateError): for CI, where the committed lock is the truth.
	Locked bool
	// DryRun says what would move and changes nothing: pins are kept as they are, even
	// for platforms they lack; new references are reported added, unresolved; no content
	// is fetched but what CheckMoved takes, each pinned tag resolved for one platform (its
	// index digest is what can move).
	DryRun bool
}

// ChangeKind says what UpdateLock did with one reference.
type ChangeKind string

// Change kinds, as printed by `archc lock`.
const (
	ChangeAdded     ChangeKind = "added"     // a new pin
	ChangeUpdated   ChangeKind = "updated"   // --update moved the pin
	ChangeMoved     ChangeKind = "moved"     // the tag points elsewhere now; the pin was kept
	ChangePlatforms ChangeKind = "platforms" // platforms added to a kept pin
	ChangeRemoved   ChangeKind = "removed"   // no component uses the reference any more
	ChangeUnchecked ChangeKind = "unchecked" // kept; the tag could not be checked (Err says why)
	ChangeKept      ChangeKind = "kept"      // kept and current (or not checked)
)

// LockChange is one line of UpdateLock's report.
type LockChange struct {
	Ref  string
	Kind ChangeKind
	// Old and New are the index digests before and after (New is the tag's current
	// digest for ChangeMoved).
	Old, New digest.Digest
	// Platforms are the platforms added (ChangePlatforms).
	Platforms []string
	// Err is why a ChangeUnchecked check failed.
	Err error
}

// UpdateLock returns the lock the requests need: existing pins are kept unless opts say
// to update them; new references are resolved; platforms missing from a kept pin are
// resolved from the pinned digest (the pin does not move); image configs missing from the
// cache are fetched by digest. old is not modified (opts.DryRun returns it as the lock). On any resolution error it returns the
// joined errors and no lock, so the caller leaves the file on disk untouched.
func (r *Resolver) UpdateLock(ctx context.Context, old *Lock, reqs []ImageRequest, opts LockOptions) (*Lock, []LockChange, error) {
	if old == nil {
		old = &Lock{}
	}
	only := map[string]bool{}
	for _, ref := range opts.Images {
		n, err := NormalizeRef(ref)
		if err != nil {
			return nil, nil, err
		}
		only[n] = true
	}
	if err := checkOnly(only, reqs); err != nil {
		return nil, nil, err
	}
	next := &Lock{}
	changes := make([]LockChange, len(reqs))
	errs := make([]error, len(reqs))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, req := range reqs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			im, ch, err := r.lockOne(ctx, old.Find(req.Ref), req, opts.Update && (len(only) == 0 || only[req.Ref]), opts)
			if err != nil {
				errs[i] = err
				return
			}
			mu.Lock()
			next.Set(*im)
			mu.Unlock()
			changes[i] = ch
		}()
	}
	wg.Wait()
	if err := joinErrors(errs); err != nil {
		return nil, nil, err
	}
	for _, im := range old.Images {
		if next.Find(im.Ref) == nil {
			changes = append(changes, LockChange{Ref: im.Ref, Kind: ChangeRemoved, Old: im.Digest})
		}
	}
	sort.SliceStable(changes, func(i, j int) bool { return changes[i].Ref < changes[j].Ref })
	if opts.DryRun {
		return old, changes, nil
	}
	return next, changes, nil
}

func checkOnly(only map[string]bool, reqs []ImageRequest) error {
	used := map[string]bool{}
	for _, r := range reqs {
		used[r.Ref] = true
	}
	for ref := range only {
		if !used[ref] {
			return &UnusedImageError{Ref: ref}
		}
	}
	return nil
}

// lockOne decides one reference's pin.
func (r *Resolver) lockOne(ctx context.Context, pin *Image, req ImageRequest, update bool, opts LockOptions) (*Image, LockChange, error) {
	ch := LockChange{Ref: req.Ref}
	if opts.DryRun {
		return r.wouldMove(ctx, pin, req, opts.CheckMoved)
	}
	if pin == nil || update {
		im, err := r.Resolve(ctx, req.Ref, req.Platforms)
		if err != nil {
			return nil, ch, err
		}
		ch.New = im.Digest
		switch {
		case pin == nil:
			ch.Kind = ChangeAdded
		case pin.Digest != im.Digest:
			ch.Kind, ch.Old = ChangeUpdated, pin.Digest
		default:
			ch.Kind, ch.Old = ChangeKept, pin.Digest
		}
		return im, ch, nil
	}
	ch.Kind, ch.Old, ch.New = ChangeKept, pin.Digest, pin.Digest
	kept := *pin
	kept.Platforms = append([]PlatformImage(nil), pin.Platforms...)
	var need []string
	for _, p := range req.Platforms {
		if pi := pin.Platform(p); pi == nil || !r.cache.Has(pi.Config) || !r.cache.Has(pi.Manifest) {
			need = append(need, p)
		}
	}
	if len(need) > 0 {
		byDigest, err := pinnedRef(req.Ref, pin.Digest)
		if err != nil {
			return nil, ch, err
		}
		im, err := r.Resolve(ctx, byDigest, need)
		if err != nil {
			return nil, ch, err
		}
		for _, p := range im.Platforms {
			if kept.Platform(p.Platform) == nil {
				ch.Kind = ChangePlatforms
				ch.Platforms = append(ch.Platforms, p.Platform)
				kept.Platforms = append(kept.Platforms, p)
			}
		}
		sort.Slice(kept.Platforms, func(i, j int) bool { return kept.Platforms[i].Platform < kept.Platforms[j].Platform })
	}
	if opts.CheckMoved {
		r.checkMoved(ctx, pin, req.Ref, req.Platforms, &ch)
	}
	return &kept, ch, nil
}

// wouldMove is lockOne without downloads: the pin is kept as it is, a missing one is
// reported added (unresolved), and with checkMoved the tag is resolved for one platform,
// enough for its index digest.
func (r *Resolver) wouldMove(ctx context.Context, pin *Image, req ImageRequest, checkMoved bool) (*Image, LockChange, error) {
	if pin == nil {
		return &Image{Ref: req.Ref}, LockChange{Ref: req.Ref, Kind: ChangeAdded}, nil
	}
	ch := LockChange{Ref: req.Ref, Kind: ChangeKept, Old: pin.Digest, New: pin.Digest}
	if checkMoved {
		r.checkMoved(ctx, pin, req.Ref, req.Platforms[:min(1, len(req.Platforms))], &ch)
	}
	kept := *pin
	return &kept, ch, nil
}

// checkMoved resolves ref's tag (a digest reference cannot move) and records on ch whether
// it still points to the pin.
func (r *Resolver) checkMoved(ctx context.Context, pin *Image, ref string, platforms []string, ch *LockChange) {
	if refDigest(ref) != "" {
		return
	}
	cur, err := r.Resolve(ctx, ref, platforms)
	switch {
	case err != nil:
		ch.Kind, ch.Err = ChangeUnchecked, err
	case cur.Digest != pin.Digest:
		ch.Kind, ch.New = ChangeMoved, cur.Digest
	}
}

// pinnedRef is ref's repository at digest d ("docker.io/library/alpine@sha256:…").
func pinnedRef(ref string, d digest.Digest) (string, error) {
	n, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	c, err := reference.WithDigest(reference.TrimNamed(n), d)
	if err != nil {
		return "", err
	}
	return c.String(), nil
}
