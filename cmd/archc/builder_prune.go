package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"syscall"
	"time"

	"github.com/docker/go-units"

	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
)

// builderDuCmd is `archc builder du [SPEC]`: each builder's cache size (BuildKit's disk usage).
type builderDuCmd struct {
	specArgs `embed:""`
}

func (c *builderDuCmd) Run(g *Globals) error {
	s, err := c.load(g)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return cacheReport(g, solver.DiskUsage(ctx, s, 10*time.Second), func(u solver.CacheUsage) string {
		return fmt.Sprintf("%d records, %s, %s reclaimable", u.Records, units.BytesSize(float64(u.Size)), units.BytesSize(float64(u.Reclaimable)))
	})
}

// builderPruneCmd is `archc builder prune [SPEC]`: free each builder's unused cache.
type builderPruneCmd struct {
	specArgs `embed:""`

	All          bool          `help:"Also free internal and frontend records (buildctl prune --all)."`
	KeepDuration time.Duration `name:"keep-duration" placeholder:"DURATION" help:"Keep records used within DURATION (e.g. 24h)."`
}

func (c *builderPruneCmd) Run(g *Globals) error {
	s, err := c.load(g)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res := solver.Prune(ctx, s, 10*time.Second, solver.PruneOptions{All: c.All, KeepDuration: c.KeepDuration})
	return cacheReport(g, res, func(u solver.CacheUsage) string {
		return fmt.Sprintf("freed %s (%d records)", units.BytesSize(float64(u.Size)), u.Records)
	})
}

// cacheReport prints a line per builder; a builder that could not answer fails the command,
// except a local builder that is not running (it has nothing to report or free that archc
// could reach, and du and prune never start one).
func cacheReport(g *Globals, res []solver.CacheUsage, line func(solver.CacheUsage) string) error {
	failed := false
	for _, u := range res {
		switch {
		case errors.Is(u.Err, solver.ErrNotRunning):
			fmt.Fprintf(g.Stdout, "builder %s: not running\n", spec.SafeLine(u.Builder))
		case u.Err != nil:
			failed = true
			fmt.Fprintf(g.Stdout, "builder %s: %s\n", spec.SafeLine(u.Builder), spec.SafeLine(spec.RedactText(u.Err.Error())))
		default:
			fmt.Fprintf(g.Stdout, "builder %s: %s\n", spec.SafeLine(u.Builder), line(u))
		}
	}
	if failed {
		return &exitError{code: exitFailure}
	}
	return nil
}
