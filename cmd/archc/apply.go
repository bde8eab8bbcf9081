package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
)

// applyCmd is `archc apply [SPEC | PLANFILE]`: plan (or load a saved plan and check it is
// still current), then build it on the spec's builders.
type applyCmd struct {
	specArgs `embed:""`

	DryRun             bool          `name:"dry-run" help:"Stop after the plan."`
	Parallel           int           `default:"8" help:"Components solved at once."`
	KeepGoing          bool          `name:"keep-going" help:"After a failure, let independent components finish instead of cancelling them."`
	Progress           string        `enum:"auto,tty,plain,rawjson,quiet" default:"auto" help:"Progress output: auto, tty, plain, rawjson or quiet."`
	MirrorCheckTimeout time.Duration `name:"mirror-check-timeout" default:"3s" help:"Deadline of each mirror's health check."`
	Locked             bool          `help:"Fail when a pin is missing from or stale in the lock, instead of resolving it."`
	resolveFlags       `embed:""`
}

func (c *applyCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, plan, res, err := c.plan(ctx, g)
	if err != nil {
		return err
	}
	view, err := compiler.NewView("text")
	if err != nil {
		return err
	}
	if err := view.Plan(g.Stdout, plan); err != nil {
		return err
	}
	if c.DryRun {
		return nil
	}
	results, err := solver.Apply(ctx, s, plan, solver.ApplyOptions{
		Parallel: c.Parallel, KeepGoing: c.KeepGoing, ProgressMode: c.Progress, ProgressOut: g.Stderr,
		Out: g.Stderr, Cache: res.Cache(), Fetcher: res,
	})
	if len(results) > 0 {
		fmt.Fprintln(g.Stdout)
		if werr := solver.WriteResults(g.Stdout, results); werr != nil && err == nil {
			err = werr
		}
	}
	// A mirror given up on is named again at the end, where it cannot scroll away.
	for _, m := range res.Skipped() {
		fmt.Fprintf(g.Stderr, "warning: %s; this run did without it\n", m)
	}
	if ctx.Err() != nil {
		return &exitError{code: exitFailure, err: errors.New("interrupted: solves cancelled; the builder keeps running")}
	}
	return err
}

// plan returns the spec, the plan to build and the run's resolver (which downloads the
// bases and skips the mirrors that failed the check): the plan is compiled now from a spec
// (the code path of `archc plan`), or loaded from a plan file and verified against the
// spec, the contexts and the lock.
func (c *applyCmd) plan(ctx context.Context, g *Globals) (*spec.Spec, *compiler.Plan, *registry.Resolver, error) {
	fromFile := c.Spec != "" && isPlanFile(c.Spec)
	var pf *compiler.PlanFile
	args := c.specArgs
	if fromFile {
		var err error
		if pf, err = compiler.LoadPlanFile(c.Spec); err != nil {
			return nil, nil, nil, err
		}
		if len(pf.SpecFiles) == 0 {
			return nil, nil, nil, fmt.Errorf("plan %s names no spec files", c.Spec)
		}
		if len(c.Files) > 0 {
			return nil, nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("-f cannot be combined with a plan file: the plan names its spec files")}
		}
		if len(c.Vars) > 0 {
			return nil, nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("--var cannot be combined with a plan file: the plan carries the variables it was made with (run archc plan --var ... -out again to change them)")}
		}
		args.Spec, args.Files = pf.SpecFiles[0], pf.SpecFiles[1:]
		args.Vars = varFlags(pf.Vars)
		if gone := undeclaredVars(args.files(), pf.Vars); len(gone) > 0 {
			return nil, nil, nil, &exitError{code: exitFailure, err: fmt.Errorf("refusing to apply %s: the spec no longer declares variable %s, set when the plan was made; run archc plan -out again",
				c.Spec, strings.Join(gone, ", "))}
		}
	}
	s, err := args.load(g)
	if err != nil {
		return nil, nil, nil, err
	}
	if fromFile {
		if err := c.verify(ctx, s, pf); err != nil {
			return nil, nil, nil, err
		}
	}
	var dead map[string]string
	if !c.DryRun {
		dead = solver.CheckSpecMirrors(ctx, s, c.MirrorCheckTimeout, g.Stderr).Dead
	}
	cache, res, err := c.resolver(s, registry.WithSkippedMirrors(dead))
	if err != nil {
		return nil, nil, nil, err
	}
	if fromFile {
		return s, pf.Plan, res, nil
	}
	images, err := pinImages(ctx, g, s, cache, res, c.BuildPlatform, c.Locked)
	if err != nil {
		return nil, nil, nil, err
	}
	plan, err := compiler.Compile(ctx, s, images, compiler.WithBuildPlatform(c.BuildPlatform))
	if err != nil {
		return nil, nil, nil, err
	}
	return s, plan, res, nil
}

// verify refuses a plan file whose spec, contexts or pins changed since it was saved. It
// needs the lock, not the content cache: a fresh runner can apply a plan file.
func (c *applyCmd) verify(ctx context.Context, s *spec.Spec, pf *compiler.PlanFile) error {
	lock, err := registry.ReadLock(filepath.Join(s.Dir, registry.LockFileName))
	if err != nil {
		return err
	}
	if err := pf.Verify(ctx, s, lock); err != nil {
		if errors.Is(err, compiler.ErrStale) {
			return &exitError{code: exitFailure, err: fmt.Errorf("refusing to apply %s: %w", c.Spec, err)}
		}
		return err
	}
	return nil
}

// varFlags turns a plan file's variables back into --var NAME=VALUE, sorted by name.
func varFlags(vars map[string]string) []string {
	out := make([]string, 0, len(vars))
	for k, v := range vars {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// undeclaredVars returns, sorted, the plan file's variables that the spec files no longer
// declare. Passing them back would fail the load with "drop the flag", a flag the user
// never typed: the plan is stale instead. It loads quietly, and once per variable only
// when the spec refuses them.
func undeclaredVars(files []string, vars map[string]string) []string {
	undeclared := func(vars map[string]string) bool {
		_, diags := spec.Load(spec.LoadOptions{Files: files, Vars: vars, Environ: os.Environ()})
		for _, d := range diags {
			if d.Severity == hcl.DiagError && d.Summary == spec.SummaryUndeclaredVar {
				return true
			}
		}
		return false
	}
	if len(vars) == 0 || !undeclared(vars) {
		return nil
	}
	var gone []string
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		if undeclared(map[string]string{name: vars[name]}) {
			gone = append(gone, name)
		}
	}
	return gone
}

// isPlanFile tells a plan file (JSON written by `archc plan -out`) from a spec by content.
func isPlanFile(path string) bool {
	if filepath.Ext(path) == ".hcl" {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	head = bytes.TrimSpace(head[:n])
	return bytes.HasPrefix(head, []byte("{")) && bytes.Contains(head, []byte(`"archc_plan_file"`))
}
