package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
)

// applyCmd is `archc apply [SPEC | PLANFILE]`: plan (or load a saved plan and check it is
// still current), then build it on the spec's builders.
type applyCmd struct {
	specArgs   `embed:""`
	selectArgs `embed:""`

	DryRun             bool          `name:"dry-run" help:"Stop after the plan."`
	Parallel           int           `default:"8" help:"Components solved at once."`
	KeepGoing          bool          `name:"keep-going" help:"After a failure, let independent components finish instead of cancelling them."`
	Progress           string        `enum:"auto,tty,plain,rawjson,quiet" default:"auto" help:"Progress output: auto, tty, plain, rawjson or quiet."`
	MirrorCheckTimeout time.Duration `name:"mirror-check-timeout" default:"3s" help:"Deadline of each mirror's health check."`
	Locked             bool          `help:"Fail when a pin is missing from or stale in the lock, instead of resolving it."`
	NoCache            bool          `name:"no-cache" help:"Run every build step again, without the builders' caches (this run only: the plan does not change)."`
	Force              bool          `help:"Solve every build, also those up to date (inputs unchanged since archc pushed them, and every tag still names that push)."`
	MetadataFile       string        `name:"metadata-file" type:"path" placeholder:"FILE" help:"Write the results as JSON to FILE (every tag pushed with its digest, each platform's builder, digest, status and time), also when the run fails."`
	resolveFlags       `embed:""`
}

// Help is the longer text of `archc apply --help`.
func (c *applyCmd) Help() string {
	return "SPEC may instead be a PLANFILE saved with `archc plan -out PLANFILE`: apply then builds " +
		"exactly that plan, after checking that the spec, the lock and the contexts still produce " +
		"it (it refuses, naming what changed, when they do not). Without SPEC it reads ./archbuild.hcl."
}

func (c *applyCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, plan, res, err := c.plan(ctx, g)
	if err != nil {
		return err
	}
	view, err := compiler.NewView("text", s.Scrubber())
	if err != nil {
		return err
	}
	view = compiler.WithVariables(view, s.Variables)
	// The push state is read once: the plan view shows its expectations, and Apply's
	// up-to-date check starts from it. An error reading it is Apply's to report.
	var pushes *solver.PushState
	if !c.Force && !c.NoCache {
		pushes, _ = solver.NewPushState(s, plan)
		view = compiler.WithExpectations(view, pushes.Expectations())
	}
	if err := view.Plan(g.Stdout, plan); err != nil {
		return err
	}
	if c.DryRun {
		return nil
	}
	if c.NoCache {
		if plan, err = compiler.WithoutCache(plan); err != nil {
			return err
		}
	}
	results, err := solver.Apply(ctx, s, plan, solver.ApplyOptions{
		Parallel: c.Parallel, KeepGoing: c.KeepGoing, ProgressMode: c.Progress, ProgressOut: g.Stderr,
		Out: g.Stderr, Cache: res.Cache(), Fetcher: res, Force: c.Force || c.NoCache, Pushes: pushes,
	})
	if c.MetadataFile != "" {
		if werr := solver.WriteMetadataFile(c.MetadataFile, results, err, s.Scrubber()); werr != nil {
			fmt.Fprintf(g.Stderr, "warning: %s\n", spec.SafeLine(werr.Error()))
			if err == nil {
				err = werr
			}
		}
	}
	if len(results) > 0 {
		fmt.Fprintln(g.Stdout)
		if werr := solver.WriteResults(g.Stdout, results); werr != nil && err == nil {
			err = werr
		}
	}
	// A mirror given up on is named again at the end, where it cannot scroll away.
	for _, m := range res.Skipped() {
		fmt.Fprintf(g.Stderr, "warning: %s; this run did without it\n", spec.SafeLine(m))
	}
	if ctx.Err() != nil {
		return &exitError{code: exitFailure, err: errors.New("interrupted: solves cancelled; the builder keeps running")}
	}
	return err
}

// plan returns the spec, the plan to build and the run's resolver (which downloads the
// bases and skips the mirrors that failed the check): the plan is prepared now from a spec
// (the code path of `archc plan`), or loaded from a plan file and checked against what the
// spec, the contexts and the lock produce.
func (c *applyCmd) plan(ctx context.Context, g *Globals) (*spec.Spec, *compiler.Plan, *registry.Resolver, error) {
	var pf *compiler.PlanFile
	var s *spec.Spec
	if err := c.splitSpecArg(&c.specArgs); err != nil {
		return nil, nil, nil, err
	}
	var err error
	if c.Spec != "" && compiler.IsPlanFile(c.Spec) {
		if pf, s, err = c.planFile(g); err != nil {
			return nil, nil, nil, err
		}
	} else if s, err = c.load(g); err != nil {
		return nil, nil, nil, err
	}
	var dead map[string]string
	if !c.DryRun {
		dead = solver.CheckSpecMirrors(ctx, s, c.MirrorCheckTimeout, g.Stderr).Dead
	}
	_, res, err := c.resolver(s, registry.WithSkippedMirrors(dead))
	if err != nil {
		return nil, nil, nil, err
	}
	if pf != nil {
		plan, err := pf.Check(ctx, s, res)
		if errors.Is(err, compiler.ErrStale) || errors.Is(err, compiler.ErrMismatch) {
			return nil, nil, nil, &exitError{code: exitFailure, err: fmt.Errorf("refusing to apply %s: %w", c.Spec, err)}
		}
		if err != nil {
			return nil, nil, nil, err
		}
		fmt.Fprintf(g.Stderr, "%s matches the spec, the lock and the contexts (taken from the plan file: %s).\n", c.Spec, planFileInputs(pf))
		return s, plan, res, nil
	}
	sel, err := c.selection(s)
	if err != nil {
		return nil, nil, nil, &exitError{code: exitUsage, err: err}
	}
	plan, err := prepare(ctx, g, s, res, prepareArgs{buildPlatform: c.BuildPlatform, locked: c.Locked, selection: sel})
	if err != nil {
		return nil, nil, nil, err
	}
	return s, plan, res, nil
}

// planFile loads the plan file c.Spec and the spec it names (with the variables it was
// made with); the caller checks the plan against the spec.
func (c *applyCmd) planFile(g *Globals) (*compiler.PlanFile, *spec.Spec, error) {
	pf, err := compiler.LoadPlanFile(c.Spec)
	if err != nil {
		return nil, nil, err
	}
	if len(c.Files) > 0 {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("-f cannot be combined with a plan file: the plan names its spec files")}
	}
	if len(c.Vars) > 0 {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--var cannot be combined with a plan file: the plan carries the variables it was made with (run archc plan --var ... -out again to change them)")}
	}
	if c.selectArgs.any() {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--component, --platform and component names cannot be combined with a plan file: the plan carries its selection (run archc plan --component ... -out again to change it)")}
	}
	if c.BuildPlatform != "" && spec.NormalizePlatform(c.BuildPlatform) != pf.Plan.BuildPlatform {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--build-platform %s: the plan was made for build platform %s (run archc plan --build-platform ... -out again to change it)", c.BuildPlatform, pf.Plan.BuildPlatform)}
	}
	s, diags, err := pf.LoadSpec(os.Environ())
	if err == nil {
		err = reportDiags(g, diags)
	}
	if err == nil {
		noteEnvProxy(g, s)
	}
	if errors.Is(err, compiler.ErrStale) {
		return nil, nil, &exitError{code: exitFailure, err: fmt.Errorf("refusing to apply %s: %w", c.Spec, err)}
	}
	return pf, s, err
}

// planFileInputs names what a plan file takes as given rather than from the spec: its
// build platform and the variables it was made with (names only: values may be secrets).
func planFileInputs(pf *compiler.PlanFile) string {
	text := "build platform " + spec.SafeLine(pf.Plan.BuildPlatform)
	if len(pf.Vars) > 0 {
		text += "; variables " + spec.SafeLine(strings.Join(slices.Sorted(maps.Keys(pf.Vars)), ", "))
	}
	if !pf.Plan.Selection.All() {
		text += "; selection " + spec.SafeLine(pf.Plan.Selection.String())
	}
	return text
}
