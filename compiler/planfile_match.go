package compiler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// ErrMismatch is wrapped by Match's error: the plan file says something that the spec, the
// lock and the contexts do not produce (a hand-edited file, or one made from other inputs).
var ErrMismatch = errors.New("the plan file is not what the spec produces")

// Check is `archc apply FILE`'s workflow. It reads the lock next to s (archbuild.lock.hcl in
// s.Dir) and refuses a stale plan (the spec's digest or a pin changed: ErrStale). It checks
// the pins against content as plan does (res.VerifyLock: a *registry.LockMismatchError),
// then Matches the plan with the lock's pins and their image configs. Content is read from
// res's cache, or from the plan file (a fresh runner with a cold cache can apply a plan
// file without a registry), or fetched. It returns the plan the spec produces, which is the one to
// build: equal to the file in everything it says about what is built and where it goes.
func (f *PlanFile) Check(ctx context.Context, s *spec.Spec, res *registry.Resolver) (*Plan, error) {
	lock, err := registry.ReadLock(filepath.Join(s.Dir, registry.LockFileName))
	if err != nil {
		return nil, err
	}
	problems, err := f.staleInputs(s, lock)
	if err != nil {
		return nil, err
	}
	if err := staleError(problems); err != nil {
		return nil, err
	}
	if err := f.seedCache(lock, res.Cache()); err != nil {
		return nil, err
	}
	// Before the compile uses them (and fetching what neither the cache nor the file
	// holds): the file and the lock may have been edited alike (two manifests swapped in
	// both). These are the pins the file names; Match then refuses a file whose pins are
	// not the ones the compile used, so no pin goes unchecked.
	if err := res.VerifyLock(ctx, lock, f.lockRequests()); err != nil {
		return nil, err
	}
	plan, err := f.Match(ctx, s, NewLockImages(lock, res.Cache()))
	if errors.Is(err, ErrMismatch) {
		// Contexts are hashed once, by the compile; only a mismatch pays for the second
		// pass that says which context changed, a staleness rather than an edit.
		if serr := staleError(f.verifyContexts(ctx, s.Dir)); serr != nil {
			return nil, serr
		}
	}
	return plan, err
}

// lockRequests are the plan file's pins as requests, by reference.
func (f *PlanFile) lockRequests() []registry.ImageRequest {
	var out []registry.ImageRequest
	for _, e := range f.Lock {
		if n := len(out); n > 0 && out[n-1].Ref == e.Ref {
			out[n-1].Platforms = append(out[n-1].Platforms, e.Platform)
			continue
		}
		out = append(out, registry.ImageRequest{Ref: e.Ref, Platforms: []string{e.Platform}})
	}
	return out
}

// Match compiles s again with images and the plan's build platform, narrows it to the
// plan's selection (Plan.Select), and compares the plan file, as read, with the file Save
// would write for that plan: every field, so a field
// added to the file format is checked without being listed here. Only the fields in
// unchecked are left out. The error wraps ErrMismatch and names each difference (build,
// field, the file's value and the spec's; sensitive values scrubbed, definitions and
// configs by digest). It returns the plan the spec produces.
func (f *PlanFile) Match(ctx context.Context, s *spec.Spec, images Images) (*Plan, error) {
	if f.saved == nil {
		return nil, errors.New("check plan file: it was not read from a file (LoadPlanFile)")
	}
	plan, err := Compile(ctx, s, images, WithBuildPlatform(f.Plan.BuildPlatform))
	if err != nil {
		return nil, fmt.Errorf("compute the plan again from the spec: %w", err)
	}
	if err := plan.Select(s, f.Plan.Selection); err != nil {
		return nil, fmt.Errorf("%w: its selection (%s): %w; run `archc plan -out` again and review it", ErrMismatch, f.Plan.Selection, err)
	}
	want := NewPlanFile(plan, nil)
	want.Vars, want.BaseContent, want.Scrub = f.Vars, f.BaseContent, s.Scrubber()
	ff, err := want.form(s.Dir)
	if err != nil {
		return nil, fmt.Errorf("compute the plan again from the spec: %w", err)
	}
	dt, err := json.Marshal(ff)
	if err != nil {
		return nil, fmt.Errorf("compute the plan again from the spec: %w", err)
	}
	var wantTree map[string]any
	if err := json.Unmarshal(dt, &wantTree); err != nil {
		return nil, fmt.Errorf("compute the plan again from the spec: %w", err)
	}
	got := dropUnchecked(f.saved)
	d := &treeDiff{scrub: s.Scrubber()}
	d.value(nil, got, dropUnchecked(wantTree))
	if len(d.problems) > 0 {
		return nil, fmt.Errorf("%w: %s; run `archc plan -out` again and review it", ErrMismatch, d.summary())
	}
	return plan, nil
}

// unchecked are the plan file's fields Match does not compare, each with the reason. Paths
// are JSON keys; "*" is any element of an array.
var unchecked = []struct{ path, why string }{
	{"spec_files", "an input: it names the spec every other field is checked against"},
	{"variables", "an input (--var and ARCHC_VAR_* when the plan was made), possibly secret; the spec is evaluated with them"},
	{"base_content", "content-addressed (checked on load) and used only where the lock names the digest"},
	{"proxy", "shown, never used: the solver adds the spec's own proxy, and a proxy change must not invalidate a plan"},
	{"builds.*.bases.*.resolved", "what the run that made the plan did (it resolved a pin the lock lacked), not an input"},
	{"builds.*.pinned_bases.*.Resolved", "the same, in the form apply reads"},
	{"builds.*.expected_up_to_date", "local state (what this machine pushed, see Expectation), not an input; plan files never carry it"},
}

// dropUnchecked is a deep copy of tree without the unchecked fields.
func dropUnchecked(tree map[string]any) map[string]any {
	out := deepCopy(tree).(map[string]any)
	for _, u := range unchecked {
		dropPath(out, strings.Split(u.path, "."))
	}
	return out
}

func dropPath(v any, path []string) {
	switch x := v.(type) {
	case map[string]any:
		if len(path) == 1 {
			delete(x, path[0])
			return
		}
		dropPath(x[path[0]], path[1:])
	case []any:
		if path[0] == "*" {
			for _, e := range x {
				dropPath(e, path[1:])
			}
		}
	}
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}
