package spec

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// MaxSourceSize is the largest HCL file archc parses (a spec or a lock). Parsing and
// evaluating cost memory in proportion: about 6 times the file for long strings, but close
// to 400 times for the densest shape (an 8 MB list of 4 million numbers took 3 GB and 11 s),
// so 4 MiB keeps the worst case near 1.5 GB. A hand-written spec is a few KB, a generated
// one with a thousand components well under 1 MiB, and a lock ~400 bytes per platform pin.
const MaxSourceSize = 4 << 20

// MaxNesting is how deep an HCL file may nest brackets, braces, parentheses, templates and
// operators before archc refuses it. hclsyntax parses and evaluates these recursively, and
// Go cannot recover from running out of stack (100,000 nested `[` ended the process with a
// goroutine dump), so the depth is checked before parsing. No real spec comes near it.
const MaxNesting = 1000

// CheckSource rejects, before any HCL parsing, a file that is not UTF-8 text (a NUL byte
// or invalid UTF-8 in its first MaxSourceSize bytes: a binary given by mistake would
// otherwise yield hundreds of thousands of syntax errors), larger than MaxSourceSize or
// nested deeper than MaxNesting. It returns
// at most one diagnostic, located in filename, and reads src once, without recursion.
func CheckSource(filename string, src []byte) hcl.Diagnostics {
	if at, what := firstBinary(src[:min(len(src), MaxSourceSize+1)]); at >= 0 {
		pos := posAt(src, at)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Not a text file",
			Detail: fmt.Sprintf("%s: not a text file (binary data at byte %d: %s). archc reads "+
				"UTF-8 text: check that the file named is the HCL file and not a binary or an archive.",
				filename, at, what),
			Subject: &hcl.Range{Filename: filename, Start: pos, End: pos},
		}}
	}
	if len(src) > MaxSourceSize {
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "File too large",
			Detail: fmt.Sprintf("%s is larger than %d MiB, the most archc reads; a spec or lock "+
				"this large is not hand-written: check that the file named is the right one.",
				filename, MaxSourceSize>>20),
			Subject: &hcl.Range{Filename: filename, Start: hcl.InitialPos, End: hcl.InitialPos},
		}}
	}
	if at := tooDeep(src, MaxNesting); at >= 0 {
		pos := posAt(src, at)
		return hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Nesting too deep",
			Detail: fmt.Sprintf("More than %d levels of brackets, braces, parentheses, templates "+
				"and operators in one expression: archc stops here rather than exhaust its stack. "+
				"Split the expression, or move parts of it into locals.", MaxNesting),
			Subject: &hcl.Range{Filename: filename, Start: pos, End: hcl.Pos{Line: pos.Line, Column: pos.Column + 1, Byte: pos.Byte + 1}},
		}}
	}
	return nil
}

// firstBinary returns the offset of the first NUL byte or invalid UTF-8 sequence in src
// and what it is, or -1.
func firstBinary(src []byte) (int, string) {
	nul := bytes.IndexByte(src, 0)
	limit := src
	if nul >= 0 {
		limit = src[:nul]
	}
	if !utf8.Valid(limit) {
		for i := 0; i < len(limit); {
			r, n := utf8.DecodeRune(limit[i:])
			if r == utf8.RuneError && n == 1 {
				return i, fmt.Sprintf("byte 0x%02x is not UTF-8", limit[i])
			}
			i += n
		}
	}
	if nul >= 0 {
		return nul, "a NUL byte"
	}
	return -1, ""
}

// posAt is the hcl.Pos of byte offset at: line and column count from 1, columns in runes.
func posAt(src []byte, at int) hcl.Pos {
	at = min(max(at, 0), len(src))
	line := bytes.Count(src[:at], []byte{'\n'}) + 1
	lineStart := bytes.LastIndexByte(src[:at], '\n') + 1
	return hcl.Pos{Line: line, Column: utf8.RuneCount(src[lineStart:at]) + 1, Byte: at}
}

// ReadSourceFile reads a file that will be parsed as HCL, but no more than one byte past
// MaxSourceSize: CheckSource then rejects it as too large, and a huge file or an endless
// device (/dev/zero) costs no more than that. Errors are os's, so errors.Is(err,
// fs.ErrNotExist) works.
func ReadSourceFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSourceSize+1))
}
