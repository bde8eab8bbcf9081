package doctor

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/archc-dev/archc/registry"
)

// lockTimeout bounds the lock check: reading the lock, then resolving each tag once.
const lockTimeout = 20 * time.Second

// lockCheck checks that the lock pins every base image of the spec for every platform it
// is needed on (complete), that content agrees with each pin (registry's VerifyLock, as
// plan and apply check it: a contradicted pin fails) and, where a registry answers, that
// each pinned tag still resolves to the pinned digest (current). Unreachable registries leave a pin unchecked,
// not wrong: offline, only completeness is checked.
func (e *env) lockCheck() Check {
	name := e.relPath(e.o.LockPath)
	return Check{Name: "lock", Timeout: lockTimeout, Run: func(ctx context.Context) Finding {
		if e.basesErr != nil {
			return Finding{Verdict: Fail, Checked: "the base images of the spec's Dockerfiles", Cause: e.basesErr.Error(),
				Fix: "fix the Dockerfile or the component's args; `archc lock` reports the same"}
		}
		lock, err := e.lock()
		if err != nil {
			return Finding{Verdict: Fail, Checked: name, Cause: err.Error(),
				Fix: fmt.Sprintf("fix %s, or delete it and run `archc lock` (every pin is resolved again)", name)}
		}
		if len(e.bases) == 0 {
			return Finding{Verdict: OK, Checked: name + ": the spec uses no base image"}
		}
		// apply resolves missing pins itself (only --locked refuses): a warning, not a failure.
		if _, err := os.Stat(e.o.LockPath); err != nil {
			return Finding{Verdict: Warn, Checked: name, Cause: "there is no lock: every apply resolves the tags again (and `archc apply --locked` refuses)",
				Fix: "run `archc lock` and commit " + name}
		}
		// Completeness is registry's rule (CheckLock), as apply --locked applies it.
		if st := registry.CheckLock(lock, e.bases); len(st.Missing) > 0 {
			return Finding{Verdict: Warn, Checked: name, Cause: "not pinned: " + strings.Join(st.Missing, ", ") + ": every apply resolves them again (and `archc apply --locked` refuses)",
				Fix: "run `archc lock` (it adds the missing pins and moves none) and commit " + name}
		}
		pins := 0
		for _, b := range e.bases {
			pins += len(b.Platforms)
		}
		checked := fmt.Sprintf("%s pins all %d base images for their platforms (%d manifests)", name, len(e.bases), pins)
		res, done, err := e.lockResolver()
		if err != nil {
			return notCurrent(checked, err.Error())
		}
		defer done()
		// Resolving gives up a second before the check's deadline, so that the finding
		// says what was checked rather than the check overstaying.
		if deadline, ok := ctx.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, max(time.Until(deadline)-time.Second, time.Second))
			defer cancel()
		}
		// Pins against content is registry's rule (VerifyLock), as plan and apply apply it.
		verr := res.VerifyLock(ctx, lock, e.bases)
		if me := (*registry.LockMismatchError)(nil); errors.As(verr, &me) {
			return Finding{Verdict: Fail, Checked: name + ": the pins against their index and manifests", Cause: me.Error(), Fix: me.Hint()}
		}
		f := e.lockCurrent(ctx, res, lock, checked)
		if verr != nil && f.Verdict == OK {
			// Apply fetches the same content and fails the same way; the mirror checks say why.
			return Finding{Verdict: Warn, Checked: f.Checked, Cause: "the pins were not checked against their content: " + causeOf(verr),
				Fix: "make a mirror or the registry serve the pinned images (see the mirror checks) and run `archc doctor` again"}
		}
		return f
	}}
}

// lockResolver is the run's resolver (env.resolver), or without Options.Cache one over a
// temporary cache, removed by done: nothing else resolves then (the probes need a cache).
func (e *env) lockResolver() (*registry.Resolver, func(), error) {
	if e.o.Cache != nil {
		res, err := e.resolver()
		return res, func() {}, err
	}
	dir, err := os.MkdirTemp("", "archc-doctor-")
	if err != nil {
		return nil, func() {}, err
	}
	done := func() { os.RemoveAll(dir) }
	cache, err := registry.OpenCache(dir)
	if err == nil {
		var res *registry.Resolver
		if res, err = e.newResolver(cache); err == nil {
			return res, done, nil
		}
	}
	done()
	return nil, func() {}, err
}

// newResolver is a resolver as doctor's checks use it: doctor's dialer and credentials,
// short attempts so a dead mirror is given up on quickly. Each reference may take up to
// fetchTimeout (the longest any check gives it); the caller's ctx bounds it further.
func (e *env) newResolver(cache *registry.Cache) (*registry.Resolver, error) {
	return registry.NewResolver(e.s, cache, registry.WithDialContext(e.o.Dial), registry.WithTimeout(fetchTimeout),
		registry.WithAttemptTimeout(registry.DefaultCheckTimeout), registry.WithCredentials(e.creds))
}

// lockCurrent resolves every pinned tag and reports those that moved.
func (e *env) lockCurrent(ctx context.Context, res *registry.Resolver, lock *registry.Lock, checked string) Finding {
	// What would move is registry's answer (a dry run of `archc lock`), not a copy of it.
	_, changes, err := res.UpdateLock(ctx, lock, e.bases, registry.LockOptions{CheckMoved: true, DryRun: true})
	if err != nil {
		return notCurrent(checked, err.Error())
	}
	var moved, unchecked []string
	var why error
	current := 0
	for _, ch := range changes {
		switch ch.Kind {
		case registry.ChangeUnchecked:
			unchecked = append(unchecked, ch.Ref)
			if why == nil {
				why = ch.Err
			}
		case registry.ChangeMoved:
			moved = append(moved, fmt.Sprintf("%s now points to %s, the lock pins %s", ch.Ref, short(ch.New.String()), short(ch.Old.String())))
		case registry.ChangeKept:
			current++
		}
	}
	if len(moved) > 0 {
		return Finding{Verdict: Warn, Checked: checked, Cause: "tags moved: " + strings.Join(moved, "; "),
			Fix: "builds keep using the pins; to take the new images, review them and run `archc lock --update --image REF`"}
	}
	checked += fmt.Sprintf("; %d current", current)
	if len(unchecked) > 0 {
		checked += fmt.Sprintf(", %d not checked (registry unreachable: %s)", len(unchecked), strings.Join(unchecked, ", "))
	}
	if current == 0 && len(unchecked) > 0 {
		return notCurrent(checked, "no registry answered for any pinned tag: "+causeOf(why))
	}
	return Finding{Verdict: OK, Checked: checked}
}

// notCurrent is a complete lock whose tags could not be checked at all: builds use the pins,
// so it is no failure, but a ✓ would claim a check that did not happen.
func notCurrent(checked, why string) Finding {
	return Finding{Verdict: Warn, Checked: checked, Cause: "whether the pinned tags moved was not checked: " + why,
		Fix: "builds use the pins as they are; make a mirror or the registry answer (see the mirror and dns checks) and run `archc doctor` again, or `archc lock --update` to take what the tags point to now"}
}
