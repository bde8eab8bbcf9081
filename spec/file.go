package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// fileFuncName is the spec function that reads a file: file("daemon.json").
const fileFuncName = "file"

// maxFileTotal bounds what one load may read with file(), all calls together: each file is
// bounded by MaxSourceSize, and a spec calling file() in a for expression must not read a
// repository's worth of data into memory.
const maxFileTotal = 4 * MaxSourceSize

// fileReader is the state behind one load's file() function. Reads are deterministic: a
// path names the same bytes for the whole load (cached), only regular files are read (no
// devices, FIFOs or /proc entries whose content changes between reads), and only inside
// the repository, so a spec cannot make a plan depend on files its reviewers cannot see.
type fileReader struct {
	root       string // the repository root, symlinks resolved
	rootLex    string // the same, as reached from the spec's directory without resolving
	defaultDir string // relative paths of calls that were not bound to their file (JSON syntax)
	cache      map[string]string
	total      int64
}

// newFileReader returns the reader for a spec whose first file is in dir. The repository
// is the nearest directory at or above dir holding .git (a directory, or a file in a
// worktree or submodule), else dir itself: a monorepo keeps its shared daemon.json at the
// top while the spec lives in a subdirectory.
func newFileReader(dir string) *fileReader {
	rootLex := dir
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			rootLex = d
			break
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	root := rootLex
	if r, err := filepath.EvalSymlinks(rootLex); err == nil {
		root = r
	}
	return &fileReader{root: root, rootLex: rootLex, defaultDir: dir, cache: map[string]string{}}
}

// bareErr drops the absolute path an os error carries: messages name the path as the
// spec wrote it.
func bareErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// function is file(path): the UTF-8 text of path, relative to the spec file that calls it.
// The second parameter is the caller's directory, added by bindFileCalls; a spec author
// cannot pass it (bindFileCalls refuses a second argument), and it only changes the base
// of a relative path: the repository bound holds whatever it says.
func (r *fileReader) function() function.Function {
	return function.New(&function.Spec{
		Description: "Reads a UTF-8 text file inside the repository, relative to the spec file.",
		Params:      []function.Parameter{{Name: "path", Type: cty.String}},
		VarParam:    &function.Parameter{Name: "dir", Type: cty.String},
		Type:        function.StaticReturnType(cty.String),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			dir := r.defaultDir
			if len(args) > 1 {
				dir = args[1].AsString()
			}
			s, err := r.read(dir, args[0].AsString())
			if err != nil {
				return cty.UnknownVal(cty.String), function.NewArgError(0, err)
			}
			return cty.StringVal(s), nil
		},
	})
}

// read returns the content of p (relative to dir) after checking that it stays inside the
// repository once every symlink is resolved.
func (r *fileReader) read(dir, p string) (string, error) {
	if p == "" {
		return "", errors.New("empty path")
	}
	name := p
	if !filepath.IsAbs(name) {
		name = filepath.Join(dir, name)
	}
	name = filepath.Clean(name)
	if !within(r.rootLex, name) && !within(r.root, name) { // before any lookup: an outside file's existence is not the spec's business
		return "", fmt.Errorf("%s is outside the repository %s: file() reads only files inside the repository, "+
			"so that reviewers see everything a plan depends on", p, r.rootLex)
	}
	real, err := filepath.EvalSymlinks(name)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, bareErr(err))
	}
	if !within(r.root, real) {
		return "", fmt.Errorf("%s is outside the repository %s (after following symlinks it is %s): "+
			"file() reads only files inside the repository, so that reviewers see everything a plan depends on",
			p, r.root, real)
	}
	if s, ok := r.cache[real]; ok {
		return s, nil
	}
	b, err := readRegular(real)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	if r.total += int64(len(b)); r.total > maxFileTotal {
		return "", fmt.Errorf("read %s: the spec's file() calls read more than %d MiB in all", p, maxFileTotal>>20)
	}
	if !utf8.Valid(b) {
		return "", fmt.Errorf("%s is not UTF-8 text", p)
	}
	r.cache[real] = string(b)
	return string(b), nil
}

// readRegular reads a regular file of at most MaxSourceSize bytes.
// It checks the type before opening (opening a FIFO blocks until a writer comes) and
// again on the open file, which must be the one checked.
func readRegular(name string) ([]byte, error) {
	before, err := os.Stat(name)
	if err != nil {
		return nil, bareErr(err)
	}
	if !before.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s): only files give the same content on every read", fileKind(before.Mode()))
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, bareErr(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !os.SameFile(before, fi) {
		return nil, errors.New("the file changed while archc read it")
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxSourceSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSourceSize {
		return nil, fmt.Errorf("larger than %d MiB, the most file() reads", MaxSourceSize>>20)
	}
	return b, nil
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}

// within reports whether path is root or below it (both clean and absolute).
func within(root, path string) bool {
	rel, err := filepath.Rel(root, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// bindFileCalls makes every file(path) call in body relative to dir, the directory of the
// file body was parsed from: HCL functions do not know where they are called from, so the
// directory is added as a hidden second argument. A call with another shape is an error at
// the call.
func bindFileCalls(body *hclsyntax.Body, dir string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	_ = hclsyntax.VisitAll(body, func(n hclsyntax.Node) hcl.Diagnostics {
		call, ok := n.(*hclsyntax.FunctionCallExpr)
		if !ok || call.Name != fileFuncName {
			return nil
		}
		if len(call.Args) != 1 || call.ExpandFinal {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid file() call",
				Detail:   "file takes one argument: a path relative to the spec file that calls it.",
				Subject:  call.Range().Ptr(),
			})
			return nil
		}
		call.Args = append(call.Args, &hclsyntax.LiteralValueExpr{Val: cty.StringVal(dir), SrcRange: call.CloseParenRange})
		return nil
	})
	return diags
}
