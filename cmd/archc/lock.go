package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"syscall"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
)

// lockCmd is `archc lock`: resolve every base image and write archbuild.lock.hcl.
type lockCmd struct {
	specArgs `embed:""`

	Update       bool     `help:"Re-resolve existing pins (all, or only those named with --image)."`
	Image        []string `name:"image" sep:"none" placeholder:"REF" help:"With --update, move only this image's pin (repeatable)."`
	resolveFlags `embed:""`
}

func (c *lockCmd) Run(g *Globals) error {
	if len(c.Image) > 0 && !c.Update {
		return &exitError{code: exitUsage, err: fmt.Errorf("--image needs --update: without it no pin moves")}
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
		return interrupted(ctx, fmt.Errorf("lock: %w\n%s left unchanged", err, registry.LockFileName))
	}
	printChanges(g.Stdout, changes)
	fmt.Fprintf(g.Stdout, "Wrote %s: %d images.\n", registry.LockFileName, len(next.Images))
	return nil
}

// printChanges writes one line per reference: what lock did with its pin.
func printChanges(w io.Writer, changes []registry.LockChange) {
	for _, ch := range changes {
		switch ch.Kind {
		case registry.ChangeAdded:
			fmt.Fprintf(w, "+ %s %s\n", ch.Ref, ch.New)
		case registry.ChangeUpdated:
			fmt.Fprintf(w, "~ %s %s -> %s\n", ch.Ref, ch.Old, ch.New)
		case registry.ChangeMoved:
			fmt.Fprintf(w, "! %s: tag now points to %s; kept the pin %s (move it: archc lock --update --image %s)\n", ch.Ref, ch.New, ch.Old, ch.Ref)
		case registry.ChangePlatforms:
			fmt.Fprintf(w, "+ %s %s: added platforms %v\n", ch.Ref, ch.Old, ch.Platforms)
		case registry.ChangeUnchecked:
			fmt.Fprintf(w, "? %s: kept %s; could not check the tag: %v\n", ch.Ref, ch.Old, ch.Err)
		case registry.ChangeRemoved:
			fmt.Fprintf(w, "- %s (no longer used)\n", ch.Ref)
		default:
			fmt.Fprintf(w, "  %s %s\n", ch.Ref, ch.Old)
		}
	}
}
