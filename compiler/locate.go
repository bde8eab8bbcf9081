package compiler

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"

	"github.com/archc-dev/archc/registry"
)

// locateBaseErrors gives each base that could not be resolved (a *registry.ResolveError
// in err's tree) the places that use it, as the compile's own errors are located
// (`component "app": app/Dockerfile:2: …`): the Dockerfile line comes from the source map
// of the build's definition, so no second reader of Dockerfiles is needed. Each ref is
// reported once, with every component that uses it; the errors of all refs come back
// joined. lock says which refs are pinned already: only those get a hint about moving a
// pin. err is returned as it is when it holds no ResolveError; the errors joined with the
// ResolveErrors that are not ones (a pin contradicted by its content) are kept, after them.
func locateBaseErrors(err error, plan *Plan, lock *registry.Lock) error {
	res, others := resolveErrors(err)
	if len(res) == 0 {
		return err
	}
	out := make([]error, 0, len(res)+len(others))
	for _, re := range res {
		out = append(out, &BaseError{Where: baseUses(plan, re.Ref), Err: re, InLock: lock != nil && lock.Find(re.Ref) != nil})
	}
	return errors.Join(append(out, others...)...)
}

// BaseError is a base image that could not be resolved, with where the spec uses it.
type BaseError struct {
	// Where are the uses, sorted: `component "app": app/Dockerfile:2`.
	Where []string
	// Err is why no host served it.
	Err *registry.ResolveError
	// InLock is true when the lock pins the ref already (for other platforms).
	InLock bool
}

func (e *BaseError) Error() string {
	if len(e.Where) == 0 {
		return e.Err.Error()
	}
	return strings.Join(e.Where, ", ") + ": " + e.Err.Error()
}

func (e *BaseError) Unwrap() error { return e.Err }

// Hint is the resolution's hint, without advice about the lock's pin for a ref the lock
// does not hold.
func (e *BaseError) Hint() string {
	if e.Err.TagMissing() && !e.InLock {
		return "check the image name and tag: the registry has no " + e.Err.Ref
	}
	return e.Err.Hint()
}

// resolveErrors are the ResolveErrors in err's tree, in order, each ref once, and the
// branches of the tree that hold none (the other errors joined with them).
func resolveErrors(err error) ([]*registry.ResolveError, []error) {
	var out []*registry.ResolveError
	var others []error
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		var re *registry.ResolveError
		if err != nil && !errors.As(err, &re) {
			others = append(others, err)
			return
		}
		re = nil
		switch u := err.(type) {
		case nil:
			return
		case *registry.ResolveError:
			re = u
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
			return
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
			return
		}
		if re != nil && !seen[re.Ref] {
			seen[re.Ref] = true
			out = append(out, re)
		}
	}
	walk(err)
	return out, others
}

// baseUses are the places that use ref as a base: `component "app": app/Dockerfile:2`
// (the line of its FROM when the source map has it), sorted, each once.
func baseUses(plan *Plan, ref string) []string {
	var out []string
	for i := range plan.Builds {
		b := &plan.Builds[i]
		i := slices.IndexFunc(b.Bases, func(base Base) bool { return base.Ref == ref })
		if i < 0 {
			continue
		}
		where := fmt.Sprintf("component %q: %s", b.Component, b.Dockerfile)
		if line := sourceLine(b.Definition, ref, b.Bases[i].Digest); line > 0 {
			where += fmt.Sprintf(":%d", line)
		}
		if !slices.Contains(out, where) {
			out = append(out, where)
		}
	}
	slices.Sort(out)
	return out
}

// sourceLine is the Dockerfile line of the image source op for ref in def, or 0. The op
// names the image by digest (the tag dropped): "docker-image://NAME@DIGEST".
func sourceLine(def *llb.Definition, ref string, dgst digest.Digest) int {
	if def == nil || def.Source == nil {
		return 0
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return 0
	}
	want := reference.TrimNamed(named).String() + "@" + dgst.String()
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			continue
		}
		src := op.GetSource()
		if src == nil {
			continue
		}
		if strings.TrimPrefix(src.Identifier, "docker-image://") != want {
			continue
		}
		locs := def.Source.Locations[digest.FromBytes(dt).String()]
		for _, l := range locs.GetLocations() {
			for _, r := range l.Ranges {
				if r.Start != nil && r.Start.Line > 0 {
					return int(r.Start.Line)
				}
			}
		}
	}
	return 0
}

// errDependencyFailed is a build that waited for another build that failed: that one's
// error says why, so this one is not reported.
var errDependencyFailed = errors.New("failed to compile")

// compileErrors joins the builds' errors (in build order), leaving out the builds that
// only failed because a dependency did, and, when a build's error repeats another's for
// another platform of the same component, the repeat. nil when every build compiled.
func compileErrors(errs []error) error {
	own := slices.ContainsFunc(errs, func(err error) bool { return err != nil && !errors.Is(err, errDependencyFailed) })
	var out []error
	seen := map[string]bool{}
	for _, err := range errs {
		if err == nil || own && errors.Is(err, errDependencyFailed) {
			continue
		}
		// "compile app/linux/amd64: Dockerfile:2: …": the same text for app/linux/arm64 is a repeat.
		key := err.Error()
		if head, rest, ok := strings.Cut(key, ": "); ok {
			comp, _, _ := strings.Cut(head, "/")
			key = comp + ": " + rest
		}
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, err)
	}
	return errors.Join(out...)
}
