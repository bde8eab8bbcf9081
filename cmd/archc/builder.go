package main

import (
	"context"
	"fmt"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
)

// builderUpCmd is `archc builder up [SPEC]`: start (or reuse) the spec's local builders
// with the config rendered from the spec, and connect the remote ones.
type builderUpCmd struct {
	specArgs `embed:""`
}

func (c *builderUpCmd) Run(g *Globals) error {
	s, err := c.load(g)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	builders, down, err := solver.Connect(ctx, s, solver.ConnectOptions{Out: g.Stderr})
	if err != nil {
		return err
	}
	for _, b := range builders {
		fmt.Fprintf(g.Stdout, "builder %s: up at %s (%s)\n", spec.SafeLine(b.Name), spec.SafeLine(b.Address), spec.SafeLine(strings.Join(b.WorkerPlatforms(), ", ")))
		b.Close()
	}
	for _, sb := range s.Builders {
		if err, ok := down[sb.Name]; ok {
			fmt.Fprintf(g.Stdout, "builder %s: down: %s\n", spec.SafeLine(sb.Name), spec.SafeLine(spec.RedactText(err.Error())))
		}
	}
	if len(down) > 0 {
		return &exitError{code: exitFailure}
	}
	return nil
}

// builderDownCmd is `archc builder down [SPEC]`: stop the local builders (their cache stays).
type builderDownCmd struct {
	specArgs `embed:""`
}

func (c *builderDownCmd) Run(g *Globals) error {
	s, err := c.load(g)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	for _, lb := range solver.LocalBuilders(s) {
		was, err := solver.StopLocal(ctx, lb.Name, g.Stderr)
		if err != nil {
			return err
		}
		if was {
			fmt.Fprintf(g.Stdout, "builder %s: stopped\n", lb.Name)
		} else {
			fmt.Fprintf(g.Stdout, "builder %s: not running\n", lb.Name)
		}
	}
	return nil
}

// builderStatusCmd is `archc builder status [SPEC]`: address, version, worker platforms and,
// for local builders, whether the running config matches the spec.
type builderStatusCmd struct {
	specArgs `embed:""`

	Format string `enum:"text,json" default:"text" help:"Output format: text or json."`
}

func (c *builderStatusCmd) Run(g *Globals) error {
	view, err := solver.NewStatusView(c.Format)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	s, err := c.load(g)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sts, err := solver.Statuses(ctx, s)
	if err != nil {
		return err
	}
	if err := view.Status(g.Stdout, sts); err != nil {
		return err
	}
	for _, st := range sts {
		if st.Failed() {
			return &exitError{code: exitFailure}
		}
	}
	return nil
}
