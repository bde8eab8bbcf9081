package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

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
	old, err := c.readLock(g, lockPath)
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

// readLock reads the lock to start from. With --update a lock with broken entries need
// not be mended by hand: the pins that did not parse are resolved again, when --update
// covers them all (every pin, or each broken one named with --image).
func (c *lockCmd) readLock(g *Globals, path string) (*registry.Lock, error) {
	old, err := registry.ReadLock(path)
	var le *registry.LockError
	if err == nil || !c.Update || !errors.As(err, &le) {
		return old, err
	}
	if le.Partial == nil {
		if len(c.Image) > 0 {
			return nil, err
		}
		fmt.Fprintf(g.Stderr, "archc: note: %s does not parse; every pin is resolved again\n", registry.LockFileName)
		return &registry.Lock{}, nil
	}
	named := map[string]bool{}
	for _, ref := range c.Image {
		if n, nerr := registry.NormalizeRef(ref); nerr == nil {
			named[n] = true
		}
	}
	for _, ref := range le.Broken {
		if len(c.Image) > 0 && !named[ref] {
			return nil, err
		}
	}
	fmt.Fprintf(g.Stderr, "archc: note: %s: resolving broken pins again: %s\n", registry.LockFileName, strings.Join(le.Broken, ", "))
	return le.Partial, nil
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
