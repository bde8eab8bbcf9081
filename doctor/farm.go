package doctor

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
)

// farm is the builders as apply finds them at start: those up (with their workers; a
// local builder that is not running counts as up with this machine's platforms, since
// apply starts it) and those down, with why. Every verdict about routing is solver's
// (solver.Availability, solver.Candidates) applied to it.
type farm struct {
	up    []*solver.Builder
	down  map[string]error
	notes []string // local builders predicted rather than asked
}

// farmOf builds the farm from what the builders said. A local builder that runs but does
// not answer is neither: its builder check fails.
func (e *env) farmOf(probes []builderProbe) farm {
	f := farm{down: map[string]error{}}
	for _, p := range probes {
		b := &solver.Builder{Name: p.spec.Name, Address: p.status.Address, Local: p.local, Declared: p.spec.Platforms}
		switch {
		case p.up():
			b.Workers = parsePlatforms(p.status.Platforms)
		case p.local && !p.status.Running:
			ws := e.hostPlatforms()
			b.Workers = parsePlatforms(ws)
			f.notes = append(f.notes, fmt.Sprintf("builder %s not running: expecting %s (this machine and binfmt_misc)", p.spec.Name, strings.Join(ws, ", ")))
		case !p.local:
			f.down[p.spec.Name] = p.status.Err
			continue
		default:
			continue
		}
		f.up = append(f.up, b)
	}
	return f
}

func (f farm) find(name string) *solver.Builder {
	for _, b := range f.up {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// need maps each component to the platforms it is built for, as apply asks
// solver.Availability.
func (e *env) need() map[string][]string {
	m := map[string][]string{}
	for _, c := range e.s.Components {
		for _, p := range c.Platforms {
			m[c.Name] = append(m[c.Name], spec.NormalizePlatform(p))
		}
	}
	return m
}

// downVerdict judges a builder that does not answer as apply will: solver.Assess on
// the work the spec sends it (its share of need) with only it down. A builder apply skips
// is a warning naming where its work goes; a required one, one a component is pinned to,
// or one whose platforms no other builder runs, fails.
func (e *env) downVerdict(f farm, name string, cause error) (Verdict, string) {
	share := map[string][]string{}
	for comp, ps := range e.need() {
		for _, p := range ps {
			if slices.Contains(e.s.BuilderCandidates(comp, p), name) {
				share[comp] = append(share[comp], p)
			}
		}
	}
	o, err := solver.Assess(e.s, f.up, map[string]error{name: cause}, share)
	if err != nil {
		return Fail, "`archc apply` stops before building: " + err.Error()
	}
	if k, ok := o.Skip(name); ok {
		return Warn, "`archc apply` skips it with a warning: " + k.Where()
	}
	return Warn, "`archc apply` skips it with a warning"
}

// routed is what the spec sends one builder that is up: the platforms of components it is
// a candidate for (solver.Candidates: any of them may get the work), and the platforms its
// block lists that its workers cannot run, each with whether another builder takes them.
type routed struct {
	platforms []string
	jobs      map[string]bool // components with a platform routed here
	// cannot are listed platforms the workers cannot run; uncovered those of them that no
	// builder that is up runs for some component (apply stops).
	cannot, uncovered []string
}

func (e *env) routedTo(f farm, b *solver.Builder) routed {
	r := routed{jobs: map[string]bool{}}
	need := e.need()
	for _, comp := range sortedKeysOf(need) {
		for _, p := range need[comp] {
			cands, _ := solver.Candidates(e.s, f.up, comp, p)
			if slices.Contains(cands, b) {
				r.jobs[comp] = true
				if !slices.Contains(r.platforms, p) {
					r.platforms = append(r.platforms, p)
				}
				continue
			}
			if !declares(b, p) || b.Serves(p) {
				continue
			}
			if !slices.Contains(r.cannot, p) {
				r.cannot = append(r.cannot, p)
			}
			if len(cands) == 0 && !slices.Contains(r.uncovered, p) {
				r.uncovered = append(r.uncovered, p)
			}
		}
	}
	slices.Sort(r.platforms)
	return r
}

func declares(b *solver.Builder, p string) bool {
	return slices.ContainsFunc(b.Declared, func(d string) bool { return spec.NormalizePlatform(d) == p })
}

func sortedKeysOf[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// jobsOnce is the run's jobs as apply builds them (solver.JobsFromPlan) from the offline
// compile: their outputs, tags and cache entries are apply's; their definitions read
// stand-in bases and are never solved.
func jobsOnce(e *env) func() ([]*solver.Job, error) {
	return sync.OnceValues(func() ([]*solver.Job, error) {
		if e.basesErr != nil {
			return nil, e.basesErr
		}
		if e.offline == nil {
			return nil, fmt.Errorf("no plan")
		}
		return solver.JobsFromPlan(e.offline, e.s)
	})
}

// connect opens a builder that answered, without starting anything.
func (e *env) connect(ctx context.Context, p builderProbe) (*solver.Builder, error) {
	if p.local {
		return solver.ConnectLocal(ctx, p.spec.Name, probeTimeout)
	}
	return solver.ConnectRemote(ctx, p.spec, probeTimeout)
}
