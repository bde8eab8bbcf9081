package main

import (
	"fmt"

	"github.com/archc-dev/archc/compiler"
)

// showCmd is `archc show PLANFILE`: render a plan file saved with `plan -out`.
type showCmd struct {
	PlanFile string `arg:"" name:"planfile" type:"existingfile" placeholder:"PLANFILE" help:"A plan file written by archc plan -out FILE."`
	Format   string `enum:"text,json,dot,markdown" default:"text" help:"Output format: text, json, dot or markdown."`
}

// Help is the longer text of `archc show --help`.
func (c *showCmd) Help() string {
	return "show reads only the plan file: no spec, lock, registry or builder. It checks that the " +
		"file is a plan file this archc reads and that the base content it carries matches its " +
		"digests, not that the plan is still current: `archc apply PLANFILE` checks that against " +
		"the spec, the lock and the contexts before it builds. Sensitive values were masked when " +
		"the plan was saved, and the variables' values it carries are never printed."
}

func (c *showCmd) Run(g *Globals) error {
	if !compiler.IsPlanFile(c.PlanFile) {
		return &exitError{code: exitUsage, err: fmt.Errorf("%s is not a plan file: show renders what `archc plan -out FILE` saved "+
			"(a JSON plan from --format json is already readable as is)", c.PlanFile)}
	}
	pf, err := compiler.LoadPlanFile(c.PlanFile)
	if err != nil {
		return err
	}
	view, err := compiler.NewView(c.Format, nil) // saved builds are masked already
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return view.Plan(g.Stdout, pf.Plan)
}
