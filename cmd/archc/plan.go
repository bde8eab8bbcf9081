package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
)

// planCmd is `archc plan`: compile the spec and show exactly what would be built.
type planCmd struct {
	specArgs   `embed:""`
	selectArgs `embed:""`

	Format           string `enum:"text,json,dot,markdown" default:"text" help:"Output format: text, json, dot or markdown (for a pull-request comment)."`
	Out              string `name:"out" short:"o" type:"path" placeholder:"FILE" help:"Save the plan (definitions, context digests, pins) for archc apply FILE."`
	Compare          string `name:"compare" type:"existingfile" placeholder:"OLD.json" help:"Show what changed against a plan saved with --format json."`
	DetailedExitcode bool   `name:"detailed-exitcode" help:"With --compare: exit 2 when something changed, 0 when nothing did."`
	Locked           bool   `help:"Fail when a pin is missing from or stale in the lock, instead of resolving it (for CI)."`
	resolveFlags     `embed:""`
}

func (c *planCmd) Run(g *Globals) error {
	if c.DetailedExitcode && c.Compare == "" {
		return &exitError{code: exitUsage, err: fmt.Errorf("--detailed-exitcode needs --compare OLD.json")}
	}
	if c.Compare != "" && c.Format == "dot" {
		return &exitError{code: exitUsage, err: fmt.Errorf("--compare prints text, json or markdown, not dot")}
	}
	if c.Compare != "" {
		if err := compareInput(c.Compare); err != nil {
			return &exitError{code: exitUsage, err: err}
		}
	}
	compiler.PaceShortLived()
	if err := c.splitSpecArg(&c.specArgs); err != nil {
		return err
	}
	s, err := c.load(g)
	if err != nil {
		return err
	}
	sel, err := c.selection(s)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	view, err := compiler.NewView(c.Format, s.Scrubber())
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	view = compiler.WithVariables(view, s.Variables)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cache, res, err := c.resolver(s)
	if err != nil {
		return err
	}
	plan, err := prepare(ctx, g, s, res, prepareArgs{buildPlatform: c.BuildPlatform, locked: c.Locked, selection: sel})
	if err != nil {
		return interrupted(ctx, err)
	}
	if c.Out != "" {
		if err := c.save(g, s, plan, cache); err != nil {
			return err
		}
	}
	if c.Compare == "" {
		return compiler.WithExpectations(view, solver.Expect(s, plan)).Plan(g.Stdout, plan)
	}
	diff, err := compiler.CompareFile(c.Compare, plan, s.Scrubber())
	if err != nil {
		return err
	}
	// markdown shows the lock changes, graph and details of the two plans, not the diff alone.
	if view, err = compiler.WithComparison(view, c.Compare, plan); err != nil {
		return err
	}
	if err := view.Diff(g.Stdout, diff); err != nil {
		return err
	}
	if c.DetailedExitcode && !diff.Empty() {
		return &exitError{code: 2}
	}
	return nil
}

// save writes the plan file --out names, with the bases' content from cache.
func (c *planCmd) save(g *Globals, s *spec.Spec, plan *compiler.Plan, cache *registry.Cache) error {
	pf := compiler.NewPlanFile(plan, s.Files)
	pf.Vars = s.OutsideVars()
	pf.Scrub = s.Scrubber()
	if err := pf.CarryBaseContent(s, cache); err != nil {
		return err
	}
	if err := pf.Save(c.Out); err != nil {
		return err
	}
	fmt.Fprintf(g.Stderr, "Saved the plan to %s: run `archc apply %s` to build exactly this.\n", c.Out, c.Out)
	return nil
}

// prepareArgs are what plan and apply give compiler.Prepare from their flags.
type prepareArgs struct {
	buildPlatform string
	locked        bool
	selection     compiler.Selection
}

// prepare pins and compiles (compiler.Prepare) and reports the pins it wrote to the lock.
func prepare(ctx context.Context, g *Globals, s *spec.Spec, res *registry.Resolver, a prepareArgs) (*compiler.Plan, error) {
	plan, changes, err := compiler.Prepare(ctx, s, compiler.PrepareOptions{Resolver: res, Locked: a.locked, Selection: a.selection,
		Compile: []compiler.Option{compiler.WithBuildPlatform(a.buildPlatform)}})
	if len(changes) > 0 {
		text, _ := registry.NewLockView("text")
		_ = text.Changes(g.Stderr, changes) // stderr: nothing to do if it fails
		fmt.Fprintf(g.Stderr, "Resolved pins missing from %s and wrote it; review and commit it.\n", registry.LockFileName)
	}
	if ood := (*registry.OutOfDateError)(nil); errors.As(err, &ood) {
		err = fmt.Errorf("--locked: %w", err)
		if ood.BuildPlatform != "" {
			err = withHint(err, buildPlatformHint(ood))
		}
		return nil, err
	}
	return plan, err
}

// interrupted is err, or the interruption that caused it when the user pressed Ctrl-C.
func interrupted(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &exitError{code: exitFailure, err: errors.New("interrupted")}
	}
	return err
}

// buildPlatformHint is the OutOfDateError's hint with the flag that carries out its
// second fix.
func buildPlatformHint(ood *registry.OutOfDateError) string {
	var quoted []string
	for _, p := range ood.WantedBuildPlatforms() {
		quoted = append(quoted, strconv.Quote(p))
	}
	alt := "--build-platform with the platform of the machine that wrote the lock"
	switch len(ood.Pinned) {
	case 0:
	case 1:
		alt = "--build-platform " + ood.Pinned[0] + ", the build platform the lock has"
	default:
		alt = "--build-platform with one of the build platforms the lock has: " + strings.Join(ood.Pinned, ", ")
	}
	return fmt.Sprintf("set build_platforms = [%s] in the spec, run archc lock (it pins every build platform listed) and commit %s; or pass %s",
		strings.Join(quoted, ", "), registry.LockFileName, alt)
}

// compareInput checks that --compare names what it reads, a JSON plan (plan --format
// json), before any work: a plan file (plan -out) or a text plan is the usual mistake.
func compareInput(path string) error {
	need := "--compare needs a JSON plan: save one with `archc plan --format json > OLD.json` (on the base branch, in CI)"
	if compiler.IsPlanFile(path) {
		return fmt.Errorf("%s is a plan file (plan -out), for apply; %s, or print this one's with `archc show %s --format json`", path, need, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	if t := bytes.TrimSpace(head[:n]); len(t) == 0 || t[0] != '{' {
		return fmt.Errorf("%s is not JSON (a text plan?); %s", path, need)
	}
	return nil
}
