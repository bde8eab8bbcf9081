package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/archc-dev/archc/initspec"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// initCmd is `archc init [DIR]`: write a first archbuild.hcl from Docker's settings, the
// proxy environment and the Dockerfiles under DIR (or a docker-bake.hcl).
type initCmd struct {
	Dir          string   `arg:"" optional:"" default:"." placeholder:"DIR" help:"Repository root: where to look for Dockerfiles and write archbuild.hcl (default .)."`
	Platforms    []string `name:"platform" sep:"none" placeholder:"OS/ARCH" help:"A platform to build (repeatable; default linux/amd64 and linux/arm64)."`
	FromBake     string   `name:"from-bake" type:"path" placeholder:"FILE" help:"Convert the targets of this docker-bake.hcl instead of looking for Dockerfiles."`
	Force        bool     `name:"force" help:"Overwrite an existing archbuild.hcl."`
	DryRun       bool     `name:"dry-run" help:"Print the spec to stdout instead of writing it."`
	DaemonJSON   string   `name:"daemon-json" type:"path" default:"/etc/docker/daemon.json" placeholder:"PATH" help:"Docker daemon settings to read registry-mirrors, insecure-registries and proxies from."`
	DockerConfig string   `name:"docker-config" type:"path" placeholder:"PATH" help:"Docker CLI config to read proxies.default from (default $DOCKER_CONFIG/config.json or ~/.docker/config.json)."`
}

func (c *initCmd) Run(g *Globals) error {
	out := filepath.Join(c.Dir, spec.DefaultFile)
	if !c.DryRun && !c.Force {
		if _, err := os.Stat(out); err == nil {
			return &exitError{code: exitFailure, err: fmt.Errorf("%s exists: --force overwrites it, --dry-run prints the new one", out)}
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("check %s: %w", out, err)
		}
	}
	res, err := initspec.Generate(context.Background(), initspec.Options{Dir: c.Dir, Platforms: c.Platforms,
		DaemonJSON: c.DaemonJSON, DockerConfig: c.dockerConfig(), Environ: os.Environ(), FromBake: c.FromBake})
	if err != nil {
		return err
	}
	_, diags, err := initspec.Validate(c.Dir, out, res)
	if err != nil {
		return err
	}
	if c.DryRun {
		if _, err := g.Stdout.Write(res.Spec); err != nil {
			return err
		}
	} else if err := writeSpec(out, res.Spec); err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	c.report(g, out, res)
	return reportDiags(g, diags)
}

// report prints what came from where (stderr: stdout may be the spec).
func (c *initCmd) report(g *Globals, out string, res *initspec.Result) {
	verb := "wrote " + out
	if c.DryRun {
		verb = "dry run, " + out + " not written"
	}
	fmt.Fprintf(g.Stderr, "archc init: %s\n", verb)
	for _, n := range res.Report {
		fmt.Fprintf(g.Stderr, "  %s\n", spec.RedactText(n.String()))
	}
	for name := range res.Placeholders {
		fmt.Fprintf(g.Stderr, "archc init: set ARCHC_VAR_%s before running archc (the spec needs it)\n", name)
	}
}

// dockerConfig is --docker-config, or the config the Docker CLI reads.
func (c *initCmd) dockerConfig() string {
	if c.DockerConfig != "" {
		return c.DockerConfig
	}
	return registry.DockerConfigPath()
}
