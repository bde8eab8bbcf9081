package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// planCmd is `archc plan`: compile the spec and show exactly what would be built.
type planCmd struct {
	specArgs `embed:""`

	Format           string `enum:"text,json,dot" default:"text" help:"Output format: text, json or dot."`
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
		return &exitError{code: exitUsage, err: fmt.Errorf("--compare prints text or json, not dot")}
	}
	view, err := compiler.NewView(c.Format)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	s, err := c.load(g)
	if err != nil {
		return err
	}
	ctx := context.Background()
	cache, res, err := c.resolver(s)
	if err != nil {
		return err
	}
	images, err := pinImages(ctx, g, s, cache, res, c.BuildPlatform, c.Locked)
	if err != nil {
		return err
	}
	plan, err := compiler.Compile(ctx, s, images, compiler.WithBuildPlatform(c.BuildPlatform))
	if err != nil {
		return err
	}
	if c.Out != "" {
		pf := compiler.NewPlanFile(plan, s.Files)
		if pf.Vars, err = c.outsideVars(s); err != nil {
			return err
		}
		if err := pf.Save(c.Out); err != nil {
			return err
		}
		fmt.Fprintf(g.Stderr, "Saved the plan to %s: run `archc apply %s` to build exactly this.\n", c.Out, c.Out)
	}
	if c.Compare == "" {
		return view.Plan(g.Stdout, plan)
	}
	f, err := os.Open(c.Compare)
	if err != nil {
		return err
	}
	defer f.Close()
	old, err := compiler.ReadJSON(f, c.Compare)
	if err != nil {
		return err
	}
	diff := compiler.Compare(old, plan.JSON())
	if err := view.Diff(g.Stdout, diff); err != nil {
		return err
	}
	if c.DetailedExitcode && !diff.Empty() {
		return &exitError{code: 2}
	}
	return nil
}

// outsideVars are the values of the spec's variables that came from --var or
// ARCHC_VAR_NAME, as given, for the plan file: apply FILE must evaluate the spec as plan did.
func (c *planCmd) outsideVars(s *spec.Spec) (map[string]string, error) {
	flags, err := c.vars()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, v := range s.Variables {
		switch v.Source {
		case spec.SourceFlag:
			out[v.Name] = flags[v.Name]
		case spec.SourceEnv:
			out[v.Name] = os.Getenv(spec.EnvPrefix + v.Name)
		}
	}
	return out, nil
}

// pinImages makes sure the lock next to the spec covers every base image (resolving and
// recording missing pins unless locked) and returns the images the compiler reads.
func pinImages(ctx context.Context, g *Globals, s *spec.Spec, cache *registry.Cache, res *registry.Resolver, buildPlatform string, locked bool) (*compiler.LockImages, error) {
	reqs, err := registry.BaseImages(s, buildPlatform)
	if err != nil {
		return nil, err
	}
	lockPath := filepath.Join(s.Dir, registry.LockFileName)
	lock, err := registry.ReadLock(lockPath)
	if err != nil {
		return nil, err
	}
	images, changes, err := compiler.Pin(ctx, lock, cache, reqs, res, locked)
	if err != nil {
		return nil, err
	}
	if len(changes) > 0 {
		printChanges(g.Stderr, changes)
		if err := registry.WriteLock(lockPath, images.Lock()); err != nil {
			return nil, err
		}
		fmt.Fprintf(g.Stderr, "Resolved pins missing from %s and wrote it; review and commit it.\n", registry.LockFileName)
	}
	return images, nil
}
