package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
)

// lockCmd is `archc lock`: resolve every base image and write archbuild.lock.hcl.
type lockCmd struct {
	specArgs `embed:""`

	Format       string   `enum:"text,json" default:"text" help:"Output format: text or json."`
	Update       bool     `help:"Re-resolve existing pins (all, or only those named with --image)."`
	Image        []string `name:"image" sep:"none" placeholder:"REF" help:"With --update, move only this image's pin (repeatable)."`
	resolveFlags `embed:""`
}

func (c *lockCmd) Run(g *Globals) error {
	if len(c.Image) > 0 && !c.Update {
		return &exitError{code: exitUsage, err: fmt.Errorf("--image needs --update: without it no pin moves")}
	}
	view, err := registry.NewLockView(c.Format)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	s, err := c.load(g)
	if err != nil {
		return err
	}
	for _, n := range registry.MirrorSettingNotes(s) {
		fmt.Fprintf(g.Stderr, "archc: note: %s\n", n)
	}
	_, res, err := c.resolver(s)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	next, changes, recovered, err := compiler.Lock(ctx, s, res,
		registry.LockOptions{Update: c.Update, Images: c.Image, CheckMoved: true}, compiler.WithBuildPlatform(c.BuildPlatform))
	if recovered != nil {
		fmt.Fprintf(g.Stderr, "archc: note: %s\n", recovered)
	}
	if ue := (*registry.UnusedImageError)(nil); errors.As(err, &ue) {
		err = fmt.Errorf("--image %w", err)
	}
	if err != nil {
		var le *registry.LockError
		if errors.As(err, &le) {
			return err
		}
		// Diagnostics located in the lock: printed as they are, like a spec problem.
		if me := (*registry.LockMismatchError)(nil); errors.As(err, &me) {
			return fmt.Errorf("%w\n%s", err, lockOutcome(s.Dir))
		}
		return interrupted(ctx, fmt.Errorf("lock: %w\n%s", err, lockOutcome(s.Dir)))
	}
	return view.Lock(g.Stdout, registry.LockReport{File: registry.LockFileName, Images: len(next.Images), Changes: changes})
}

// lockOutcome says what a failed lock left behind: the old lock, or none at all.
func lockOutcome(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, registry.LockFileName)); err != nil {
		return "no " + registry.LockFileName + " written"
	}
	return registry.LockFileName + " left unchanged"
}
