package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// probeTimeout bounds asking every builder for its status (solver's own calls have 5 s
// deadlines each).
const probeTimeout = 12 * time.Second

// builderProbe is what one builder said.
type builderProbe struct {
	spec   spec.Builder
	local  bool
	status solver.Status
	// wantDigest is the config digest of the spec's rendering (local builders).
	wantDigest string
	digestErr  error
}

// up reports whether the builder answered.
func (p builderProbe) up() bool { return p.status.Running && p.status.Err == nil }

// onceProbe asks every builder once, whichever check needs it first; doctor never starts
// or restarts a daemon.
func onceProbe(e *env) func() []builderProbe {
	return sync.OnceValue(func() []builderProbe {
		ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
		defer cancel()
		want, derr := solver.DaemonConfigDigest(e.s)
		var probes []builderProbe
		for _, b := range solver.LocalBuilders(e.s) {
			probes = append(probes, builderProbe{spec: b, local: true, wantDigest: want, digestErr: derr})
		}
		for _, b := range e.s.Builders {
			if b.Address != "" {
				probes = append(probes, builderProbe{spec: b})
			}
		}
		var wg sync.WaitGroup
		for i := range probes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := &probes[i]
				if p.local {
					p.status = solver.LocalStatus(ctx, p.spec.Name, p.wantDigest)
				} else {
					p.status = solver.RemoteStatus(ctx, p.spec)
				}
			}()
		}
		wg.Wait()
		return probes
	})
}

// builderChecks returns, per builder, whether it answers (and its version; a builder that
// is down is judged as apply will, solver.Assess), then whether the workers cover the
// spec's platforms, then per local builder whether its running config is what the spec
// renders, then per builder what the run asks of it (probe; push for a remote one).
func (e *env) builderChecks() []Check {
	var checks []Check
	for _, b := range solver.LocalBuilders(e.s) {
		checks = append(checks, e.builderCheck(b.Name))
	}
	for _, b := range e.s.Builders {
		if b.Address != "" {
			checks = append(checks, e.builderCheck(b.Name))
		}
	}
	checks = append(checks, Check{Name: "platforms", Timeout: probeTimeout + time.Second, Run: e.platformsFinding})
	for _, b := range solver.LocalBuilders(e.s) {
		checks = append(checks, e.configCheck(b.Name))
	}
	// What the run asks of each node: read a pinned base and run its platforms (every
	// node), write to the registries that need settings (a remote node only: its
	// buildkitd.toml is its own, tested by writing; a local node's is the spec's
	// rendering, whose registry blocks solver's tests pin and the config check compares).
	for _, b := range solver.LocalBuilders(e.s) {
		checks = append(checks, e.probeCheck(b.Name))
	}
	for _, b := range e.s.Builders {
		if b.Address != "" {
			checks = append(checks, e.probeCheck(b.Name), e.pushCheck(b.Name))
		}
	}
	return checks
}

func (e *env) findProbe(ctx context.Context, name string) (builderProbe, bool) {
	done := make(chan []builderProbe, 1)
	go func() { done <- e.probe() }()
	select {
	case ps := <-done:
		for _, p := range ps {
			if p.spec.Name == name {
				return p, true
			}
		}
	case <-ctx.Done():
	}
	return builderProbe{}, false
}

func (e *env) builderCheck(name string) Check {
	return Check{Name: "builder " + name, Timeout: probeTimeout + time.Second, Run: func(ctx context.Context) Finding {
		p, ok := e.findProbe(ctx, name)
		if !ok {
			return Finding{Verdict: Fail, Checked: "builder " + name, Cause: "no status before the deadline", Fix: "`archc builder status` shows what answers"}
		}
		st := p.status
		switch {
		case p.local && !st.Running:
			return Finding{Verdict: OK, Checked: fmt.Sprintf("local buildkitd not running: `archc apply` (or `archc builder up`) starts it with the spec's config at %s", st.Address)}
		case st.Err != nil && p.local:
			return Finding{Verdict: Fail, Checked: fmt.Sprintf("local buildkitd (pid %d) at %s", st.PID, st.Address), Cause: registry.Redact(st.Err.Error()),
				Fix: "restart it: `archc builder down && archc builder up` (its log is buildkitd.log in the builder's state directory)"}
		case st.Err != nil:
			probes, _ := await(ctx, e.probe)
			v, then := e.downVerdict(e.farmOf(probes), name, st.Err)
			fix := fmt.Sprintf("start buildkitd there, or fix builder %q { address } in the spec", name)
			cause := then // apply's error names the builder and why it is down
			if v == Warn {
				fix += "; until then the run goes on without it"
				cause = st.Err.Error() + "\n" + then
			}
			return Finding{Verdict: v, Checked: fmt.Sprintf("builder %q at %s", name, st.Address), Cause: registry.Redact(cause), Fix: fix}
		}
		return Finding{Verdict: OK, Checked: fmt.Sprintf("%s answers: buildkitd %s, workers %s", st.Address, st.Version, strings.Join(st.Platforms, ", "))}
	}}
}

// neededPlatforms is every platform a component is built for, sorted.
func (e *env) neededPlatforms() []string {
	var out []string
	for _, c := range e.s.Components {
		for _, p := range c.Platforms {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	slices.Sort(out)
	return out
}

// platformsFinding routes the spec's platforms to the builders as apply would
// (solver.Availability and solver.Candidates), then checks that each builder also runs the
// other platforms its builds' steps run on (solver.CheckRunNeeds; the build platform of
// `FROM --platform=$BUILDPLATFORM` stages with RUN steps, from an offline compile). A local
// builder that is not running is judged by what its workers will report: this machine's
// platform and the emulators registered in binfmt_misc.
func (e *env) platformsFinding(ctx context.Context) Finding {
	need := e.neededPlatforms()
	done := make(chan []builderProbe, 1)
	go func() { done <- e.probe() }()
	var probes []builderProbe
	select {
	case probes = <-done:
	case <-ctx.Done():
		return Finding{Verdict: Warn, Checked: "platforms " + strings.Join(need, ", "), Cause: "not checked: the builders did not answer in time", Fix: "see the builder checks"}
	}
	f := e.farmOf(probes)
	checked := "platforms " + strings.Join(need, ", ")
	if len(f.notes) > 0 {
		checked += "; " + strings.Join(f.notes, "; ")
	}
	if len(f.up) == 0 {
		return Finding{Verdict: Fail, Checked: checked, Cause: "no builder answers", Fix: "see the builder checks"}
	}
	// Which builders may take each platform, and whether the run can go ahead without
	// those that are down, is apply's own decision (solver.Assess: solver.Availability's,
	// as data).
	o, err := solver.Assess(e.s, f.up, f.down, e.need())
	if err != nil {
		var ee *solver.EmulationError
		if !errors.As(err, &ee) {
			return Finding{Verdict: Fail, Checked: checked, Cause: err.Error(), Fix: "see the builder checks; start the builder, or add one for the platform"}
		}
		return Finding{Verdict: Fail, Checked: checked, Cause: ee.Cause, Fix: "either\n- " + strings.Join(ee.Fixes, ";\n- or ")}
	}
	// The stages' own platforms are checked on the builder each platform goes to first.
	route := map[string]*solver.Builder{}
	for _, p := range need {
		if names := e.candidateNames(f, p); len(names) > 0 {
			route[p] = f.find(names[0])
		}
	}
	needs, err := e.runNeeds(ctx)
	if err != nil {
		return Finding{Verdict: Warn, Checked: checked, Cause: "the stages' own platforms (FROM --platform=...) not checked: " + err.Error(),
			Fix: "fix the Dockerfile; `archc plan` reports the same"}
	}
	if err := solver.CheckRunNeeds(route, needs); err != nil {
		var ee *solver.EmulationError
		if errors.As(err, &ee) {
			return Finding{Verdict: Fail, Checked: checked, Cause: ee.Cause, Fix: "either\n- " + strings.Join(ee.Fixes, ";\n- or ")}
		}
		return Finding{Verdict: Fail, Checked: checked, Cause: err.Error(), Fix: "enable emulation (binfmt_misc + qemu-user-static) for the build platform on the builder"}
	}
	var parts []string
	for _, p := range need {
		parts = append(parts, p+" → "+strings.Join(e.candidateNames(f, p), " | "))
	}
	checked += ": " + strings.Join(parts, ", ")
	// Down builders have their own finding; the rest (emulation fallbacks, listed
	// platforms the workers cannot run) is said here.
	if len(o.Others) > 0 {
		return Finding{Verdict: Warn, Checked: checked, Cause: strings.Join(o.Others, "; "),
			Fix: "add a native builder for the platform, or fix the builder block's platforms"}
	}
	return Finding{Verdict: OK, Checked: checked}
}

func parsePlatforms(ps []string) []ocispecs.Platform {
	var out []ocispecs.Platform
	for _, s := range ps {
		if p, err := platforms.Parse(s); err == nil {
			out = append(out, platforms.Normalize(p))
		}
	}
	return out
}

// candidateNames are the builders that may take platform p for some component, in
// preference order (solver.Candidates), each once.
func (e *env) candidateNames(f farm, p string) []string {
	var out []string
	need := e.need()
	for _, comp := range sortedKeysOf(need) {
		if !slices.Contains(need[comp], p) {
			continue
		}
		cands, _ := solver.Candidates(e.s, f.up, comp, p)
		for _, b := range cands {
			if !slices.Contains(out, b.Name) {
				out = append(out, b.Name)
			}
		}
	}
	return out
}
