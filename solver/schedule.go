package solver

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/archc-dev/archc/spec"
)

// Farm is what a run schedules on: the spec (its routing: pins, declared platforms,
// max_parallel, required), the builders that are up and the affinity memory.
type Farm struct {
	Spec *spec.Spec
	// Builders are the builders that answered, in spec order.
	Builders []*Builder
	// Affinity is the last builder of each build (nil: no memory).
	Affinity *Affinity
}

// scheduler hands out builder slots: each builder runs at most its max_parallel solves
// at once (a job's platform builds that land on one builder are one solve), and a builder
// lost mid-run gets nothing more.
type scheduler struct {
	farm Farm

	mu      sync.Mutex
	wake    chan struct{} // closed and replaced when a slot frees or a builder is lost
	running map[*Builder]int
	lost    map[*Builder]error
}

func newScheduler(farm Farm) *scheduler {
	return &scheduler{farm: farm, wake: make(chan struct{}), running: map[*Builder]int{}, lost: map[*Builder]error{}}
}

// limit is b's max_parallel; a builder with no block in the spec (the default local
// one) is bounded only by the run's --parallel.
func (s *scheduler) limit(b *Builder) int {
	if s.farm.Spec == nil {
		return 0
	}
	if sb := s.farm.Spec.Builder(b.Name); sb != nil {
		return sb.Parallel()
	}
	return 0
}

func (s *scheduler) free(b *Builder) bool {
	l := s.limit(b)
	return l == 0 || s.running[b] < l
}

// assignment is where one acquire sent a job's pending platform builds: builders in
// first-use order, each with its builds (one solve, one slot).
type assignment struct {
	order  []*Builder
	groups map[*Builder][]PlatformBuild
}

// acquire waits until every build of builds can get a builder slot, takes the slots and
// returns the assignment. It fails when a build has no candidate left (all lost or none
// runs its platform) or ctx ends.
func (s *scheduler) acquire(ctx context.Context, j *Job, builds []PlatformBuild) (*assignment, error) {
	for {
		s.mu.Lock()
		a, err := s.tryAssign(j, builds)
		wake := s.wake
		if a != nil {
			for _, b := range a.order {
				s.running[b]++
			}
		}
		s.mu.Unlock()
		if err != nil || a != nil {
			return a, err
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// tryAssign picks a builder per build, or returns nil when one has no free slot. For
// each build: the builder that built it last when it has a slot (or already has one for
// this job); else a builder this job already uses (one solve, one BuildKit index); else
// the least loaded candidate (running/max_parallel) with a free slot, ties by candidate
// order.
func (s *scheduler) tryAssign(j *Job, builds []PlatformBuild) (*assignment, error) {
	a := &assignment{groups: map[*Builder][]PlatformBuild{}}
	for _, pb := range builds {
		cands, err := s.candidates(j, pb)
		if err != nil {
			return nil, err
		}
		b := s.pick(cands, a, s.farm.Affinity.Last(j.Component, pb.Platform))
		if b == nil {
			return nil, nil
		}
		if _, ok := a.groups[b]; !ok {
			a.order = append(a.order, b)
		}
		a.groups[b] = append(a.groups[b], pb)
	}
	return a, nil
}

func (s *scheduler) pick(cands []*Builder, a *assignment, last string) *Builder {
	usable := func(b *Builder) bool { _, mine := a.groups[b]; return mine || s.free(b) }
	if last != "" {
		if b := findBuilder(cands, last); b != nil && usable(b) {
			return b
		}
	}
	for _, b := range cands {
		if _, mine := a.groups[b]; mine {
			return b
		}
	}
	var best *Builder
	var bestLoad float64
	for _, b := range cands {
		if !s.free(b) {
			continue
		}
		load := float64(s.running[b])
		if l := s.limit(b); l > 0 {
			load /= float64(l)
		}
		if best == nil || load < bestLoad {
			best, bestLoad = b, load
		}
	}
	return best
}

// candidates are the builders not lost that may run pb (Candidates), and whose workers
// also run the platforms its steps execute on (FROM --platform=$BUILDPLATFORM). It runs
// under s.mu on every attempt, so it reads pb.RunPlatforms (computed once, from the plan)
// and builds CheckRunNeeds' error only when no candidate is left.
func (s *scheduler) candidates(j *Job, pb PlatformBuild) ([]*Builder, error) {
	var up []*Builder
	for _, b := range s.farm.Builders {
		if _, gone := s.lost[b]; !gone {
			up = append(up, b)
		}
	}
	sp := s.farm.Spec
	if sp == nil {
		sp = &spec.Spec{}
	}
	cands, _ := Candidates(sp, up, j.Component, pb.Platform)
	if len(cands) == 0 {
		return nil, s.noCandidate(j, pb)
	}
	var ok []*Builder
	for _, b := range cands {
		if runsOn(b, pb.Platform, pb.RunPlatforms...) {
			ok = append(ok, b)
		}
	}
	if len(ok) == 0 {
		return nil, CheckRunNeeds(map[string]*Builder{pb.Platform: cands[0]}, runNeeds(j.Component, pb.Platform, pb.RunPlatforms))
	}
	return ok, nil
}

func (s *scheduler) noCandidate(j *Job, pb PlatformBuild) error {
	var gone []string
	for b, err := range s.lost {
		gone = append(gone, fmt.Sprintf("builder %q went away: %v", b.Name, err))
	}
	slices.Sort(gone)
	if len(gone) == 0 {
		return fmt.Errorf("component %s (%s): no builder can run it", j.Component, pb.Platform)
	}
	return fmt.Errorf("component %s (%s): no builder left that can run it (%s)", j.Component, pb.Platform, strings.Join(gone, "; "))
}

// release frees the slots an assignment took.
func (s *scheduler) release(a *assignment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range a.order {
		s.running[b]--
	}
	s.broadcast()
}

// markLost takes b out of the run; it reports whether b was up until now.
func (s *scheduler) markLost(b *Builder, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.lost[b]; ok {
		return false
	}
	s.lost[b] = err
	s.broadcast()
	return true
}

func (s *scheduler) broadcast() {
	close(s.wake)
	s.wake = make(chan struct{})
}

// required reports whether the spec says b must be used (required = true).
func (s *scheduler) required(b *Builder) bool {
	if s.farm.Spec == nil {
		return false
	}
	sb := s.farm.Spec.Builder(b.Name)
	return sb != nil && sb.Required
}

// checkCandidates checks, before anything is built, that every build has a builder that
// runs its platform and the platforms its steps run on (FROM --platform=$BUILDPLATFORM):
// the first such problem as an *EmulationError naming the fix.
func checkCandidates(farm Farm, jobs []*Job) error {
	s := newScheduler(farm)
	for _, j := range jobs {
		for _, pb := range j.Builds {
			if _, err := s.candidates(j, pb); err != nil {
				return err
			}
		}
	}
	return nil
}
