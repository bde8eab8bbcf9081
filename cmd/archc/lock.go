package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

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
	reqs, err := registry.BaseImages(s, c.BuildPlatform)
	if err != nil {
		return err
	}
	lockPath := filepath.Join(s.Dir, registry.LockFileName)
	old, err := registry.ReadLock(lockPath)
	if err != nil {
		return err
	}
	_, res, err := c.resolver(s)
	if err != nil {
		return err
	}
	next, changes, err := res.UpdateLock(context.Background(), old, reqs,
		registry.LockOptions{Update: c.Update, Images: c.Image, CheckMoved: true})
	if err != nil {
		return fmt.Errorf("lock: %w\n%s left unchanged", err, registry.LockFileName)
	}
	printChanges(g.Stdout, changes)
	if err := registry.WriteLock(lockPath, next); err != nil {
		return err
	}
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
