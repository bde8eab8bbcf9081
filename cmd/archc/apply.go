package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
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
	specArgs `embed:""`

	DryRun                bool          `name:"dry-run" help:"Stop after the plan."`
	Parallel              int           `default:"8" help:"Components solved at once."`
	KeepGoing             bool          `name:"keep-going" help:"After a failure, let independent components finish instead of cancelling them."`
	Progress              string        `enum:"auto,tty,plain,rawjson,quiet" default:"auto" help:"Progress output: auto, tty, plain, rawjson or quiet."`
	AllowUnhealthyMirrors bool          `name:"allow-unhealthy-mirrors" help:"Use a remote builder although a mirror failed its health check."`
	MirrorCheckTimeout    time.Duration `name:"mirror-check-timeout" default:"3s" help:"Deadline of each mirror's health check."`
	Locked                bool          `help:"Fail when a pin is missing from or stale in the lock, instead of resolving it."`
	BuildPlatform         string        `name:"build-platform" placeholder:"OS/ARCH" help:"Platform $BUILDPLATFORM stands for (default: this machine's)."`
	CacheDir              string        `name:"cache-dir" type:"path" placeholder:"DIR" help:"Registry content cache (default $XDG_CACHE_HOME/archc)."`
}

func (c *applyCmd) Run(g *Globals) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	s, plan, err := c.plan(ctx, g)
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
		Out: g.Stderr, AllowUnhealthyMirrors: c.AllowUnhealthyMirrors, MirrorCheckTimeout: c.MirrorCheckTimeout,
	})
	if len(results) > 0 {
		fmt.Fprintln(g.Stdout)
		if werr := solver.WriteResults(g.Stdout, results); werr != nil && err == nil {
			err = werr
		}
	}
	if ctx.Err() != nil {
		return &exitError{code: exitFailure, err: errors.New("interrupted: solves cancelled; the builder keeps running")}
	}
	return err
}

// plan returns the spec and the plan to build: compiled now from a spec (the code path of
// `archc plan`), or loaded from a plan file and verified against the spec, the contexts
// and the lock.
func (c *applyCmd) plan(ctx context.Context, g *Globals) (*spec.Spec, *compiler.Plan, error) {
	if c.Spec != "" && isPlanFile(c.Spec) {
		return c.planFromFile(ctx, g)
	}
	s, err := c.load(g)
	if err != nil {
		return nil, nil, err
	}
	images, err := pinImages(ctx, g, s, c.BuildPlatform, c.CacheDir, c.Locked)
	if err != nil {
		return nil, nil, err
	}
	plan, err := compiler.Compile(ctx, s, images, compiler.WithBuildPlatform(c.BuildPlatform))
	if err != nil {
		return nil, nil, err
	}
	return s, plan, nil
}

func (c *applyCmd) planFromFile(ctx context.Context, g *Globals) (*spec.Spec, *compiler.Plan, error) {
	path := c.Spec
	pf, err := compiler.LoadPlanFile(path)
	if err != nil {
		return nil, nil, err
	}
	if len(pf.SpecFiles) == 0 {
		return nil, nil, fmt.Errorf("plan %s names no spec files", path)
	}
	if len(c.Files) > 0 {
		return nil, nil, &exitError{code: exitUsage, err: fmt.Errorf("-f cannot be combined with a plan file: the plan names its spec files")}
	}
	args := c.specArgs
	args.Spec, args.Files = pf.SpecFiles[0], pf.SpecFiles[1:]
	s, err := args.load(g)
	if err != nil {
		return nil, nil, err
	}
	lock, err := registry.ReadLock(filepath.Join(s.Dir, registry.LockFileName))
	if err != nil {
		return nil, nil, err
	}
	cache, err := registry.OpenCache(c.CacheDir)
	if err != nil {
		return nil, nil, err
	}
	if err := pf.Verify(ctx, s, compiler.NewLockImages(lock, cache)); err != nil {
		if errors.Is(err, compiler.ErrStale) {
			return nil, nil, &exitError{code: exitFailure, err: fmt.Errorf("refusing to apply %s: %w", path, err)}
		}
		return nil, nil, err
	}
	return s, pf.Plan, nil
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
