// Command archc compiles archbuild.hcl into BuildKit builds. This package only wires the
// library packages together: parse arguments, load, compute, render, exit code.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/containerd/log"

	"github.com/archc-dev/archc/spec"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFailure = 1 // invalid spec, failed build, failed check
	exitUsage   = 2 // bad flags or arguments
)

// cli is the whole command line. Each verb lives in its own file.
type cli struct {
	Globals

	Version  versionCmd  `cmd:"" help:"Print archc's version and the BuildKit version it was built against."`
	Init     initCmd     `cmd:"" help:"Write a first archbuild.hcl from Docker's settings and the Dockerfiles (or docker-bake.hcl) found."`
	Validate validateCmd `cmd:"" help:"Check a spec and print it normalized."`
	Lock     lockCmd     `cmd:"" help:"Resolve base images and write archbuild.lock.hcl."`
	Plan     planCmd     `cmd:"" help:"Compile the spec and show exactly what would be built."`
	Apply    applyCmd    `cmd:"" help:"Build the spec (or a saved plan) on its builders."`
	Builder  builderCmd  `cmd:"" help:"Manage the BuildKit daemon archc builds on."`
	Doctor   doctorCmd   `cmd:"" help:"Check what would break a build: spec, lock, DNS, mirrors, proxy, builders, clock."`
	Fmt      fmtCmd      `cmd:"" help:"Rewrite spec files in HCL's canonical layout (--check: exit 3 when one is not)."`
	Show     showCmd     `cmd:"" help:"Print a plan file saved with plan -out, without the spec or a builder."`
}

// Globals are the flags every command accepts.
type Globals struct {
	Chdir   string `name:"chdir" short:"C" placeholder:"DIR" help:"Change to DIR before doing anything."`
	NoColor bool   `name:"no-color" help:"Disable colored output (also when NO_COLOR is set to anything)."`
	// VersionFlag is --version, the spelling users try first; it prints what `archc version` does.
	VersionFlag versionFlag `name:"version" help:"Print archc's version and exit."`

	Stdout io.Writer `kong:"-"`
	Stderr io.Writer `kong:"-"`
}

func main() {
	// containerd's content store logs warnings of its own on the global logger ("failed
	// check for fsverity support" on every run where the filesystem lacks it): archc
	// reports what matters itself.
	_ = log.SetLevel("error")
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run parses args and runs the chosen command, returning the process exit code.
func run(args []string, stdout, stderr io.Writer) int {
	var c cli
	c.Stdout, c.Stderr = stdout, stderr
	parser, err := kong.New(&c,
		kong.Name("archc"),
		kong.Description("archc compiles archbuild.hcl into exact, reviewable BuildKit builds."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(kongExit{code}) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
	)
	if err != nil {
		fmt.Fprintf(stderr, "archc: %v\n", err)
		return exitFailure
	}
	// --chdir must apply before kong resolves path flags (--out, --cache-dir, --compare)
	// against the working directory, as SPEC and -f are resolved after it.
	if dir := chdirArg(args); dir != "" {
		if err := os.Chdir(dir); err != nil {
			fmt.Fprintf(stderr, "archc: %v\n", err)
			return exitUsage
		}
	}
	kctx, code, err := parse(parser, singleDashLong(args))
	if code >= 0 { // --help or a version flag: kong printed and asked to exit
		return code
	}
	if err != nil { // kong.ParseError and friends: the command line is wrong
		return usageError(parser, stdout, stderr, args, err)
	}
	if c.Chdir != chdirArg(args) { // "-vC DIR": kong saw -C where the pre-scan could not
		fmt.Fprintf(stderr, "archc: write -C DIR (or --chdir DIR) as its own argument, before the others\n")
		return exitUsage
	}
	// https://no-color.org: any non-empty value turns colour off.
	c.NoColor = c.NoColor || os.Getenv("NO_COLOR") != ""
	if err := kctx.Run(&c.Globals); err != nil {
		return reportError(stderr, err)
	}
	return exitOK
}

// exitError carries an exit code for an error the command has already reported.
type exitError struct {
	code int
	err  error // nil when the message was already printed
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// reportError prints err (unless already printed), then each hint it carries once, and
// returns its exit code.
func reportError(stderr io.Writer, err error) int {
	code := exitFailure
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err == nil {
			return ee.code
		}
		code, err = ee.code, ee.err
	}
	writeError(stderr, err)
	return code
}

// kongExit carries the exit code kong asks for after printing help.
type kongExit struct{ code int }

// parse runs kong's parser, turning its request to exit (after --help) into a code instead of
// letting parsing carry on. code is -1 when the command should run.
func parse(parser *kong.Kong, args []string) (kctx *kong.Context, code int, err error) {
	defer func() {
		if r := recover(); r != nil {
			ke, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			kctx, code, err = nil, ke.code, nil
		}
	}()
	kctx, err = parser.Parse(args)
	return kctx, -1, err
}

// singleDashLong accepts the Terraform-style spelling `-out FILE` / `-out=FILE` that DESIGN.md
// documents for `plan`, which kong would otherwise read as the short flags -o -u -t.
func singleDashLong(args []string) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		if a == "--" {
			return append(out, args[len(out):]...)
		}
		if a == "-out" || strings.HasPrefix(a, "-out=") {
			a = "-" + a
		}
		out = append(out, a)
	}
	return out
}

// chdirArg finds the value of -C/--chdir among args (before any "--"), as kong would parse
// it: "-C DIR", "-CDIR", "--chdir DIR", "--chdir=DIR"; the last one wins.
func chdirArg(args []string) string {
	dir := ""
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return dir
		case a == "-C" || a == "--chdir":
			if i+1 < len(args) {
				dir = args[i+1]
				i++
			}
		case strings.HasPrefix(a, "--chdir="):
			dir = strings.TrimPrefix(a, "--chdir=")
		case strings.HasPrefix(a, "-C") && !strings.HasPrefix(a, "--"):
			dir = strings.TrimPrefix(a, "-C")
		}
	}
	return dir
}

// versionFlag is --version: it prints the version line and stops, as --help does.
type versionFlag bool

// BeforeReset runs as soon as kong sees the flag, before any argument is checked.
func (versionFlag) BeforeReset(app *kong.Kong) error {
	if err := (versionCmd{}).Run(&Globals{Stdout: app.Stdout}); err != nil {
		return err
	}
	app.Exit(exitOK)
	return nil
}

// verbAliases are the verbs users of other tools type first, with the archc verb that does
// the job.
var verbAliases = map[string]string{
	"build": "apply", "bake": "apply", "up": "apply", "run": "apply",
	"print": "plan", "show-plan": "show", "check": "doctor", "lint": "validate",
	"format": "fmt", "init-lock": "lock", "pin": "lock",
}

// usageError reports a wrong command line (exit 2). With no command at all it prints the
// usage (on stdout, as --help, after the error on stderr); an unknown verb gets the archc
// verb that does its job, or the closest verb's name.
func usageError(parser *kong.Kong, stdout, stderr io.Writer, args []string, err error) int {
	var pe *kong.ParseError
	if errors.As(err, &pe) && strings.HasPrefix(err.Error(), "expected one of") && pe.Context != nil && pe.Context.Command() == "" {
		fmt.Fprintf(stderr, "archc: %v\n", err)
		_ = pe.Context.PrintUsage(false)
		return exitUsage
	}
	// kong's own "did you mean" knows spelling, not meaning (build → "builder"): the verb
	// gets archc's suggestion instead, when the verb is the first argument.
	if rest, ok := strings.CutPrefix(err.Error(), "unexpected argument "); ok {
		verb, _, _ := strings.Cut(rest, ",")
		if s := suggestVerb(parser, verb); s != "" && firstArg(args) == verb {
			err = withHint(fmt.Errorf("unknown command %s", verb), fmt.Sprintf("did you mean `archc %s`? (archc --help lists the commands)", s))
		}
	}
	writeError(stderr, err)
	return exitUsage
}

// suggestVerb is the archc verb for an unknown one: from verbAliases, or the closest name.
func suggestVerb(parser *kong.Kong, verb string) string {
	if a, ok := verbAliases[strings.ToLower(verb)]; ok {
		return a
	}
	known := map[string]bool{}
	for _, n := range parser.Model.Children {
		known[n.Name] = true
	}
	return spec.Suggest(verb, known)
}

// firstArg is the first argument that is not a global flag (or its value).
func firstArg(args []string) string {
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-C" || a == "--chdir":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			return a
		}
	}
	return ""
}
