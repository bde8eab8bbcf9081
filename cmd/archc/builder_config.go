package main

import (
	"github.com/archc-dev/archc/solver"
)

// builderCmd groups the builder subcommands. The solver's up/down/status join it here.
type builderCmd struct {
	Config builderConfigCmd `cmd:"" help:"Print the buildkitd.toml archc renders from the spec."`
	Up     builderUpCmd     `cmd:"" help:"Start (or reuse) the local builder with the spec's config."`
	Down   builderDownCmd   `cmd:"" help:"Stop the local builder; its cache is kept."`
	Status builderStatusCmd `cmd:"" help:"Show each builder's address, version, platforms and config drift."`
	Du     builderDuCmd     `cmd:"" help:"Show each builder's cache size (running local builders and remote ones)."`
	Prune  builderPruneCmd  `cmd:"" help:"Free each builder's unused cache (running local builders and remote ones)."`
}

// builderConfigCmd is `archc builder config [SPEC]`.
type builderConfigCmd struct {
	specArgs `embed:""`
}

func (c *builderConfigCmd) Run(g *Globals) error {
	s, err := c.load(g)
	if err != nil {
		return err
	}
	out, err := solver.RenderBuildkitdConfig(s)
	if err != nil {
		return err
	}
	_, err = g.Stdout.Write(out)
	return err
}
