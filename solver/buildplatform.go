package solver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// RunNeed is a platform a component's build for Target executes steps on besides Target
// itself (a `FROM --platform=$BUILDPLATFORM` stage, or an explicit --platform).
type RunNeed struct {
	Component, Target, Platform string
}

// PlanRunNeeds are the platforms p's builds run steps on, by the rule apply
// applies (a stage counts only when it runs something: a RUN, not a FROM alone): doctor
// checks a plan it compiled without pulling anything, so it refuses what apply refuses.
func PlanRunNeeds(p *compiler.Plan) []RunNeed {
	var needs []RunNeed
	for _, b := range p.Builds {
		if b.Definition == nil {
			continue
		}
		needs = append(needs, runNeeds(b.Component, b.Platform, execPlatforms(b.Definition.ToPB()))...)
	}
	return needs
}

// runNeeds are the platforms one build executes steps on (runs: execPlatforms of its
// definition), each a RunNeed (CheckRunNeeds skips the target itself).
func runNeeds(component, target string, runs []string) []RunNeed {
	var needs []RunNeed
	for _, p := range runs {
		needs = append(needs, RunNeed{Component: component, Target: target, Platform: p})
	}
	return needs
}

// CheckRunNeeds checks needs found by runNeeds or PlanRunNeeds. Needs whose
// target no builder is routed, or whose platform is the target, are skipped.
func CheckRunNeeds(route map[string]*Builder, needs []RunNeed) error {
	type need struct {
		b    *Builder
		plat string
	}
	users := map[need][]string{}
	var order []need
	for _, rn := range needs {
		b := route[rn.Target]
		if b == nil || runsOn(b, rn.Target, rn.Platform) {
			continue
		}
		p := spec.NormalizePlatform(rn.Platform)
		n := need{b, p}
		if _, ok := users[n]; !ok {
			order = append(order, n)
		}
		if u := rn.Component + " (" + rn.Target + ")"; !slices.Contains(users[n], u) {
			users[n] = append(users[n], u)
		}
	}
	if len(order) == 0 {
		return nil
	}
	var missing []string
	var builders []*Builder
	for _, n := range order {
		if !slices.Contains(missing, n.plat) {
			missing = append(missing, n.plat)
		}
		if !slices.Contains(builders, n.b) {
			builders = append(builders, n.b)
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "the routed builders cannot run %s, which stages of their builds run on (FROM --platform=$BUILDPLATFORM, the plan's build platform, or an explicit --platform):", strings.Join(missing, ", "))
	for _, n := range order {
		fmt.Fprintf(&sb, "\n  builder %q (%s) workers: %s; %s run steps on %s",
			n.b.Name, n.b.Address, strings.Join(n.b.WorkerPlatforms(), ", "), strings.Join(users[n], ", "), n.plat)
	}
	e := newEmulationError(missing, builders)
	e.Cause = sb.String()
	e.Fixes[1] = fmt.Sprintf("plan with a build platform every builder runs (`archc plan --build-platform OS/ARCH`, and the same for apply), "+
		"or route those platforms to a builder that runs %s", strings.Join(missing, ", "))
	return e
}

// runsOn says whether b can run a build for target whose steps execute on each of runs:
// the target itself is b's to serve (Candidates), every other platform must be one of b's
// workers'. It is the rule CheckRunNeeds reports on, without building its error.
func runsOn(b *Builder, target string, runs ...string) bool {
	t := spec.NormalizePlatform(target)
	for _, r := range runs {
		if p := spec.NormalizePlatform(r); p != t && !b.Serves(p) {
			return false
		}
	}
	return true
}

// execPlatforms are the platforms a definition's RUN steps execute on, normalized, sorted.
func execPlatforms(def *pb.Definition) []string {
	if def == nil {
		return nil
	}
	var out []string
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil || op.GetExec() == nil || op.Platform == nil {
			continue
		}
		p := spec.FormatPlatform(ocispecs.Platform{OS: op.Platform.OS, Architecture: op.Platform.Architecture, Variant: op.Platform.Variant})
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
