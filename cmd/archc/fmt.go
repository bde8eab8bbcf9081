package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/archc-dev/archc/internal/atomicfile"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// exitUnformatted is fmt --check's exit code when a file is not formatted, as terraform
// fmt -check: 1 stays "could not read or parse", so CI can tell the two apart.
const exitUnformatted = 3

// fmtCmd is `archc fmt [FILE|DIR|-]...`: rewrite spec files in HCL's canonical layout
// (hclwrite, as terraform fmt), listing each file it changed.
type fmtCmd struct {
	Paths []string `arg:"" optional:"" name:"path" placeholder:"FILE|DIR" help:"Spec files, directories (their *.hcl files but the lock), or - for stdin to stdout (default: the current directory)."`
	Check bool     `help:"Write nothing; list the files that are not formatted and exit 3 if there are any."`
	Diff  bool     `help:"Print the changes as a diff."`
}

func (c *fmtCmd) Run(g *Globals) error {
	files, err := fmtFiles(c.Paths)
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	failed, unformatted := false, false
	for _, name := range files {
		changed, err := c.one(g, name)
		if err != nil {
			if _, reported := err.(*exitError); !reported {
				writeError(g.Stderr, err)
			}
			failed = true
			continue
		}
		unformatted = unformatted || changed
	}
	switch {
	case failed:
		return &exitError{code: exitFailure}
	case unformatted && c.Check:
		return &exitError{code: exitUnformatted}
	}
	return nil
}

// one formats one file (or stdin for "-"); changed says it was not formatted.
func (c *fmtCmd) one(g *Globals, name string) (bool, error) {
	var src []byte
	var err error
	if name == "-" {
		src, err = io.ReadAll(io.LimitReader(os.Stdin, spec.MaxSourceSize+1))
	} else {
		src, err = spec.ReadSourceFile(name)
	}
	if err != nil {
		return false, fmt.Errorf("read %s: %w", name, err)
	}
	out, diags := spec.FormatSource(name, src)
	if err := reportDiags(g, diags); err != nil {
		return false, err
	}
	if name == "-" {
		_, err := g.Stdout.Write(out)
		return !bytes.Equal(src, out), err
	}
	if bytes.Equal(src, out) {
		return false, nil
	}
	fmt.Fprintln(g.Stdout, name)
	if c.Diff {
		writeLineDiff(g.Stdout, name, string(src), string(out))
	}
	if c.Check {
		return true, nil
	}
	if err := writeSpec(name, out); err != nil {
		return true, fmt.Errorf("write %s: %w", name, err)
	}
	return true, nil
}

// writeSpec writes a spec file whole or not at all (atomicfile), so an interrupted run
// never leaves a truncated spec. As os.WriteFile, it writes through a symlink (the link
// stays a link) and keeps an existing file's permissions; a new file gets 0644.
func writeSpec(name string, data []byte) error {
	target, perm := name, os.FileMode(0o644)
	if fi, err := os.Stat(name); err == nil {
		if target, err = filepath.EvalSymlinks(name); err != nil {
			return err
		}
		perm = fi.Mode().Perm()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return atomicfile.WriteFile(target, data, perm)
}

// fmtFiles expands the arguments: a directory gives its *.hcl files (not the lock, which
// archc writes), sorted; no argument means the current directory.
func fmtFiles(paths []string) ([]string, error) {
	if len(paths) == 0 {
		paths = []string{"."}
	}
	var out []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if p == "-" || (err == nil && !fi.IsDir()) {
			out = append(out, p)
			continue
		}
		if err != nil {
			return nil, err
		}
		matches, err := filepath.Glob(filepath.Join(p, "*.hcl"))
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			if filepath.Base(m) != registry.LockFileName {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// writeLineDiff prints a minimal diff of two texts by lines: "-" for a line of a only, "+"
// for one of b only, from their longest common subsequence. Specs are small; a file whose
// diff table would exceed maxDiffCells is shown as wholly replaced.
func writeLineDiff(w io.Writer, name, a, b string) {
	const maxDiffCells = 4 << 20
	al, bl := strings.SplitAfter(a, "\n"), strings.SplitAfter(b, "\n")
	fmt.Fprintf(w, "--- %s\n+++ %s (formatted)\n", name, name)
	if len(al)*len(bl) > maxDiffCells {
		for _, l := range al {
			fmt.Fprint(w, "-"+strings.TrimSuffix(l, "\n")+"\n")
		}
		for _, l := range bl {
			fmt.Fprint(w, "+"+strings.TrimSuffix(l, "\n")+"\n")
		}
		return
	}
	// lcs[i][j] is the LCS length of al[i:] and bl[j:].
	lcs := make([][]int, len(al)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(bl)+1)
	}
	for i := len(al) - 1; i >= 0; i-- {
		for j := len(bl) - 1; j >= 0; j-- {
			if al[i] == bl[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	i, j := 0, 0
	for i < len(al) || j < len(bl) {
		switch {
		case i < len(al) && j < len(bl) && al[i] == bl[j]:
			i, j = i+1, j+1
		case i < len(al) && (j == len(bl) || lcs[i+1][j] >= lcs[i][j+1]): // removals first, as diff -u
			fmt.Fprintf(w, "-%s\n", strings.TrimSuffix(al[i], "\n"))
			i++
		default:
			fmt.Fprintf(w, "+%s\n", strings.TrimSuffix(bl[j], "\n"))
			j++
		}
	}
}
