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
}

// Globals are the flags every command accepts.
type Globals struct {
	Chdir   string `name:"chdir" short:"C" placeholder:"DIR" help:"Change to DIR before doing anything."`
	NoColor bool   `name:"no-color" help:"Disable colored output (also when NO_COLOR is set to anything)."`

	Stdout io.Writer `kong:"-"`
	Stderr io.Writer `kong:"-"`
}

func main() {
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
		fmt.Fprintf(stderr, "archc: %v\n", err)
		return exitUsage
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
