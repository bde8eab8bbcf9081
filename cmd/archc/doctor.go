package main

import (
	"context"
	"os"

	"github.com/archc-dev/archc/doctor"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// doctorCmd is `archc doctor`: check everything a build depends on, concurrently, each
// check with its own deadline; exit 1 when a check fails.
type doctorCmd struct {
	specArgs `embed:""`

	Format        string `name:"format" enum:"text,json" default:"text" help:"Output format: text or json."`
	ConnectTarget string `name:"connect-target" placeholder:"HOST:PORT" help:"Ask the https proxy to CONNECT here (default: the first https registry the spec sends through it)."`
	CacheDir      string `name:"cache-dir" type:"path" placeholder:"DIR" help:"Content cache used when checking that the lock is current (default $XDG_CACHE_HOME/archc)."`
	BuildPlatform string `name:"build-platform" placeholder:"OS/ARCH" help:"Platform $BUILDPLATFORM stands for (default: this machine's)."`
}

func (c *doctorCmd) Run(g *Globals) error {
	view, err := doctor.NewView(c.Format, doctor.TextOptions{Color: colorOnStdout(g)})
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	vars, err := c.vars()
	if err != nil {
		return err
	}
	s, diags := spec.Load(spec.LoadOptions{Files: c.files(), Vars: vars, Environ: os.Environ()})
	checks := []doctor.Check{doctor.SpecCheck(s, diags)}
	if !diags.HasErrors() && s != nil {
		noteEnvProxy(g, s)
		cache, err := registry.OpenCache(c.CacheDir)
		if err != nil {
			return err
		}
		checks = append(checks, doctor.Checks(s, doctor.Options{Cache: cache, ConnectTarget: c.ConnectTarget,
			BuildPlatform: c.BuildPlatform, Credentials: registry.DockerCredentials()})...)
	}
	report := doctor.Run(context.Background(), checks)
	if err := view.Report(g.Stdout, report); err != nil {
		return err
	}
	if report.Failed() {
		return &exitError{code: exitFailure}
	}
	return nil
}

// colorOnStdout says whether to color the report: not with --no-color, only on a terminal.
func colorOnStdout(g *Globals) bool {
	if g.NoColor {
		return false
	}
	f, ok := g.Stdout.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
