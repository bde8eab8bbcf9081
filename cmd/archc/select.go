package main

import (
	"fmt"
	"os"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// selectArgs choose what plan and apply build (bake's targets and --set *.platform): the
// named components and platforms, plus what they depend on. Embed it after specArgs, so
// NAME... comes after SPEC.
type selectArgs struct {
	Component []string `name:"component" sep:"none" placeholder:"NAME" help:"Build only this component and what it depends on (repeatable; also as NAME... after the spec)."`
	Platform  []string `name:"platform" sep:"none" placeholder:"OS/ARCH" help:"Build only this platform of the selected components (repeatable; one the spec declares for them)."`
	Names     []string `arg:"" optional:"" name:"name" placeholder:"NAME" help:"Components to build, as --component."`
}

// any reports whether anything was selected on the command line.
func (a *selectArgs) any() bool {
	return len(a.Component) > 0 || len(a.Platform) > 0 || len(a.Names) > 0
}

// components are the names given with --component and as positionals.
func (a *selectArgs) components() []string {
	return append(append([]string(nil), a.Component...), a.Names...)
}

// splitSpecArg tells the spec from a component name in SPEC's place: `archc apply web` means
// component web of ./archbuild.hcl when web is not a spec (a file, or a directory holding
// archbuild.hcl, which then is the spec). With no spec to select from, the error says so.
// It runs before the spec is loaded; the names are checked against it after.
func (a *selectArgs) splitSpecArg(sa *specArgs) error {
	if sa.Spec == "" {
		return nil
	}
	fi, err := os.Stat(sa.Spec)
	switch {
	case err == nil && !fi.IsDir():
		return nil
	case err == nil && isFile(spec.FindDefault(sa.Spec)):
		sa.Spec = spec.FindDefault(sa.Spec)
		return nil
	}
	if len(sa.Files) == 0 && !isFile(spec.FindDefault("")) {
		what := "no such file"
		if err == nil {
			what = "a directory without " + spec.DefaultFile
		}
		return &exitError{code: exitUsage, err: withHint(
			fmt.Errorf("%s is not a spec (%s), and there is no %s here to select a component %s from", spec.SafeLine(sa.Spec), what, spec.DefaultFile, spec.SafeLine(sa.Spec)),
			"give the spec first (archc plan path/to/archbuild.hcl NAME...), or run in the spec's directory (-C DIR)")}
	}
	a.Names = append([]string{sa.Spec}, a.Names...)
	sa.Spec = ""
	return nil
}

// selection checks the names and platforms against s.
func (a *selectArgs) selection(s *spec.Spec) (compiler.Selection, error) {
	return compiler.NewSelection(s, a.components(), a.Platform)
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir()
}
