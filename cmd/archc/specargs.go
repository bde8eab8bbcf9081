package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/archc-dev/archc/initspec"
	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
)

// specArgs are the arguments of every command that reads a spec. Embed it with `embed:""`.
type specArgs struct {
	Spec  string   `arg:"" optional:"" name:"spec" placeholder:"SPEC" help:"Spec file (default ./archbuild.hcl, or ./archbuild.hcl.json when only that exists, when no -f is given)."`
	Files []string `name:"file" short:"f" sep:"none" placeholder:"FILE" help:"Another spec file to merge; later files win per attribute (repeatable)."`
	Vars  []string `name:"var" sep:"none" placeholder:"NAME=VALUE" help:"Set a variable; beats ARCHC_VAR_NAME and the default (repeatable)."`
}

// files returns the spec files in merge order: SPEC first, then each -f.
func (a *specArgs) files() []string {
	var out []string
	if a.Spec != "" {
		out = append(out, a.Spec)
	}
	out = append(out, a.Files...)
	if len(out) == 0 {
		out = []string{spec.FindDefault("")}
	}
	return out
}

// defaultSkipped is a note when -f is given without SPEC while ./archbuild.hcl exists: -f
// merges files onto SPEC, and without one the default is not read (bake users expect
// -f to add to it); "" otherwise.
func (a *specArgs) defaultSkipped() string {
	def := spec.FindDefault("")
	if a.Spec != "" || len(a.Files) == 0 || slices.Contains(a.Files, def) {
		return ""
	}
	if _, err := os.Stat(def); err != nil {
		return ""
	}
	return fmt.Sprintf("archc: note: %s was not read: -f merges files onto SPEC, and no SPEC was given. To merge onto it, name it first: archc COMMAND %s -f %s",
		def, def, strings.Join(a.Files, " -f "))
}

// vars parses the --var flags; a malformed one is a usage error.
func (a *specArgs) vars() (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range a.Vars {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return nil, &exitError{code: exitUsage, err: fmt.Errorf("--var %q: want NAME=VALUE", kv)}
		}
		out[name] = val
	}
	return out, nil
}

// load reads and checks the spec. It prints diagnostics (warnings too) to g.Stderr and
// returns an already-reported exit error when the spec is invalid.
func (a *specArgs) load(g *Globals) (*spec.Spec, error) {
	vars, err := a.vars()
	if err != nil {
		return nil, err
	}
	if note := a.defaultSkipped(); note != "" {
		fmt.Fprintln(g.Stderr, note)
	}
	s, diags := spec.Load(spec.LoadOptions{Files: a.files(), Vars: vars, Environ: os.Environ()})
	if err := reportDiags(g, diags); err != nil {
		return nil, err
	}
	noteEnvProxy(g, s)
	return s, nil
}

// noteEnvProxy says, once per command, that the environment's proxy is not used when the
// spec declares none: archc reaches registries as the spec says, so a proxy exported in the
// shell or CI would otherwise be ignored in silence.
func noteEnvProxy(g *Globals, s *spec.Spec) {
	if s == nil || s.Proxy != nil {
		return
	}
	name, attr, ok := initspec.EnvProxy(os.Environ())
	if !ok {
		return
	}
	fmt.Fprintf(g.Stderr, "archc: note: %s is set in the environment but not used: archc and its builds use the spec's proxy block, and it has none. "+
		"Declare it with proxy { %s } (credentials through a sensitive variable), or run archc init --dry-run to generate it.\n", name, attr)
}

// reportDiags prints diags (warnings too) to g.Stderr and returns an already-reported exit
// error when there are errors among them.
func reportDiags(g *Globals, diags hcl.Diagnostics) error {
	if len(diags) > 0 {
		if err := spec.WriteDiagnostics(g.Stderr, diags, colorOn(g)); err != nil {
			return fmt.Errorf("print diagnostics: %w", err)
		}
	}
	if diags.HasErrors() {
		return &exitError{code: exitFailure}
	}
	return nil
}

// colorOn says whether to color output on stderr: not with --no-color, and only on a terminal.
func colorOn(g *Globals) bool {
	if g.NoColor {
		return false
	}
	f, ok := g.Stderr.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
