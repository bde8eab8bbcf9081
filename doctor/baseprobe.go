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
)

// Deadlines of the builder probes. A probe solves on a real daemon, so it gets longer
// than a request: a cold node unpacks the base before the step runs.
const (
	// fetchTimeout bounds downloading one pinned base into archc's cache (nothing to do
	// when apply or the lock check already did).
	fetchTimeout = 30 * time.Second
	// solveTimeout bounds one probe solve on a builder.
	solveTimeout = 20 * time.Second
	// nodeProbeTimeout is a probe check's deadline: the builders' status, a download, a solve.
	nodeProbeTimeout = probeTimeout + fetchTimeout + solveTimeout
)

// fetches downloads each pinned base once per doctor run, whichever probe needs it first.
type fetches struct {
	mu sync.Mutex
	m  map[string]func() error // by manifest digest
}

// fetch puts base's content into the cache through the run's resolver (mirrors, retries,
// verification), as apply's phase 1 does.
func (e *env) fetch(ctx context.Context, base registry.BaseContent) error {
	e.fetched.mu.Lock()
	f, ok := e.fetched.m[base.Manifest.String()]
	if !ok {
		f = sync.OnceValue(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
			defer cancel()
			res, err := e.resolver()
			if err != nil {
				return err
			}
			return res.FetchBases(ctx, []registry.BaseContent{base})
		})
		e.fetched.m[base.Manifest.String()] = f
	}
	e.fetched.mu.Unlock()
	err, ok := await(ctx, f)
	if !ok {
		return ctx.Err()
	}
	return err
}

// pinnedBase is a base the lock pins for platform p (the first by reference), as apply
// reads it: its platform manifest from archc's cache.
func (e *env) pinnedBase(p string) (registry.BaseContent, bool) {
	lock, err := e.lock()
	if err != nil {
		return registry.BaseContent{}, false
	}
	bases := slices.Clone(e.bases)
	slices.SortFunc(bases, func(a, b registry.ImageRequest) int { return strings.Compare(a.Ref, b.Ref) })
	for _, b := range bases {
		if !slices.Contains(b.Platforms, p) {
			continue
		}
		if pin := lock.Find(b.Ref); pin != nil {
			if pi := pin.Platform(p); pi != nil {
				return registry.BaseContent{Ref: b.Ref, Manifest: pi.Manifest}, true
			}
		}
	}
	return registry.BaseContent{}, false
}

// probeCheck has one builder that answers solve, for each platform the spec routes to it,
// FROM a pinned base (read through archc's session store, as apply reads it) plus a file,
// then a /bin/sh step on that platform. It fails naming the node when it cannot read the
// base or run the platform, or when its block lists a platform its workers cannot run
// and no other builder takes it.
func (e *env) probeCheck(name string) Check {
	return Check{Name: "probe " + name, Timeout: nodeProbeTimeout, Run: func(ctx context.Context) Finding {
		p, ok := e.findProbe(ctx, name)
		if !ok {
			return Finding{Verdict: Fail, Checked: "builder " + name, Cause: "no status before the deadline", Fix: "`archc builder status` shows what answers"}
		}
		switch {
		case p.local && !p.status.Running:
			return Finding{Verdict: OK, Checked: "not probed: the local builder is not running; `archc apply` starts it with the spec's config (see builder-config " + name + ")"}
		case !p.up():
			return Finding{Verdict: Warn, Checked: fmt.Sprintf("builder %q at %s", name, p.status.Address), Cause: "not probed: it does not answer", Fix: "see the builder check " + name}
		}
		probes, _ := await(ctx, e.probe)
		f := e.farmOf(probes)
		b := f.find(name)
		r := e.routedTo(f, b)
		where := fmt.Sprintf("builder %q at %s", name, p.status.Address)
		var bad []Finding
		if len(r.cannot) > 0 {
			bad = append(bad, cannotRun(where, b, r))
		}
		if len(r.platforms) == 0 {
			if len(bad) > 0 {
				return bad[0]
			}
			return Finding{Verdict: OK, Checked: where + ": the spec sends it no build in this run"}
		}
		return e.probePlatforms(ctx, p, where, r.platforms, bad)
	}}
}

// cannotRun is the finding of platforms a builder's block lists but its workers cannot run:
// apply gives them to other builders (a warning), or stops when none takes them.
func cannotRun(where string, b *solver.Builder, r routed) Finding {
	f := Finding{Verdict: Warn, Checked: where + " workers: " + strings.Join(b.WorkerPlatforms(), ", "),
		Cause: fmt.Sprintf("its block lists %s, which its workers cannot run: `archc apply` sends it no such build", strings.Join(r.cannot, ", ")),
		Fix:   fmt.Sprintf("enable emulation on its host (qemu-user-static in binfmt_misc), or remove the platform from builder %q { platforms }", b.Name)}
	if len(r.uncovered) > 0 {
		f.Verdict = Fail
		f.Cause += fmt.Sprintf(", and no other builder that is up runs %s: the run stops before building", strings.Join(r.uncovered, ", "))
	}
	return f
}

// probePlatforms runs one base probe per platform, concurrently, and folds the results
// (and earlier findings, bad) into one finding: the worst verdict, every cause.
func (e *env) probePlatforms(ctx context.Context, p builderProbe, where string, plats []string, bad []Finding) Finding {
	if e.o.Cache == nil {
		return Finding{Verdict: Warn, Checked: where, Cause: "not probed: no content cache to serve the bases from", Fix: "run `archc doctor` with a cache (--cache-dir)"}
	}
	b, err := e.connect(ctx, p)
	if err != nil {
		return Finding{Verdict: Fail, Checked: where, Cause: "connect: " + registry.Redact(err.Error()), Fix: "see the builder check " + p.spec.Name}
	}
	defer b.Close()
	found := make([]Finding, len(plats))
	var wg sync.WaitGroup
	for i, pl := range plats {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i] = e.probePlatform(ctx, b, where, pl)
		}()
	}
	wg.Wait()
	return fold(append(bad, found...))
}

// probePlatform probes one platform on b.
func (e *env) probePlatform(ctx context.Context, b *solver.Builder, where, p string) Finding {
	base, ok := e.pinnedBase(p)
	if !ok {
		if len(e.bases) == 0 {
			return Finding{Verdict: OK, Checked: p + ": the spec uses no base image (nothing to read)"}
		}
		return Finding{Verdict: Warn, Checked: p, Cause: "not probed: the lock pins no base for " + p, Fix: "run `archc lock` (see the lock check)"}
	}
	tried := fmt.Sprintf("%s: FROM %s@%s (from archc's session store) + a file, then /bin/sh -c true", p, base.Ref, short(base.Manifest.String()))
	if err := e.fetch(ctx, base); err != nil {
		return Finding{Verdict: Warn, Checked: tried, Cause: "not probed: the base could not be downloaded into archc's cache: " + causeOf(err),
			Fix: "`archc apply` fails in phase 1 the same way: see the lock and mirror checks"}
	}
	sctx, cancel := context.WithTimeout(ctx, solveTimeout)
	defer cancel()
	res, err := solver.ProbeBase(sctx, b, e.o.Cache, base, p)
	if err == nil {
		if res.NoShell {
			return Finding{Verdict: OK, Checked: tried + " → read (the base has no /bin/sh: no step run)"}
		}
		return Finding{Verdict: OK, Checked: tried + " → read and ran"}
	}
	f := Finding{Verdict: Fail, Checked: where + " " + tried, Cause: registry.Redact(err.Error())}
	var pe *solver.ProbeError
	switch {
	case sctx.Err() != nil:
		f.Cause = fmt.Sprintf("no result within %s: %s", solveTimeout, f.Cause)
		f.Fix = "the node is overloaded or stuck; see its buildkitd log"
	case errors.As(err, &pe) && pe.Step == solver.StepRun && strings.Contains(err.Error(), "exec format error"):
		f.Cause = fmt.Sprintf("it lists %s among its workers but cannot run it (exec format error): %s", p, f.Cause)
		f.Fix = "register the emulator with the F flag on the node's host (`docker run --privileged --rm tonistiigi/binfmt --install all`, or qemu-user-static), then restart buildkitd there"
	case errors.As(err, &pe) && pe.Step == solver.StepRead:
		f.Cause = "it cannot read a pinned base through archc's session store: " + f.Cause
		f.Fix = "buildkitd there must support oci-layout sources from the session (BuildKit v0.12 or later) and allow the source policy; `archc builder status` shows its version"
	default:
		f.Fix = "see the node's buildkitd log"
	}
	return f
}

// fold makes one finding of several: the worst verdict, each part's text.
func fold(fs []Finding) Finding {
	var out Finding
	var checked, causes, fixes []string
	for _, f := range fs {
		out.Verdict = max(out.Verdict, f.Verdict)
		checked = append(checked, f.Checked)
		if f.Cause != "" {
			causes = append(causes, f.Cause)
		}
		if f.Fix != "" && !slices.Contains(fixes, f.Fix) {
			fixes = append(fixes, f.Fix)
		}
	}
	out.Checked = strings.Join(checked, "; ")
	out.Cause = strings.Join(causes, "; ")
	out.Fix = strings.Join(fixes, "; ")
	return out
}
