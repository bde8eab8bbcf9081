package spec

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// ANSI colors for WriteDiagnostics.
const (
	ansiReset  = "\x1b[0m"
	ansiBold   = "\x1b[1m"
	ansiRed    = "\x1b[1;31m"
	ansiYellow = "\x1b[1;33m"
	ansiCyan   = "\x1b[36m"
)

// WriteDiagnostics prints each diagnostic as
//
//	archbuild.hcl:12:15: error: Invalid platform
//	  12 |   platforms = ["linux/amd64", "arm"]
//	     |                               ^^^^^
//	  Cannot parse platform "arm": ...
//
// reading the spec files the diagnostics point into for the snippets (a diagnostic about
// a --var value has no file and so no snippet). color adds ANSI colors.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) error {
	bw := bufio.NewWriter(w)
	sources := map[string][]byte{}
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	for _, d := range diags {
		sev := paint(ansiRed, "error")
		if d.Severity == hcl.DiagWarning {
			sev = paint(ansiYellow, "warning")
		}
		if d.Subject == nil {
			fmt.Fprintf(bw, "%s: %s\n", sev, paint(ansiBold, d.Summary))
		} else {
			fmt.Fprintf(bw, "%s:%d:%d: %s: %s\n", d.Subject.Filename, d.Subject.Start.Line,
				d.Subject.Start.Column, sev, paint(ansiBold, d.Summary))
			writeSnippet(bw, d.Subject, readCached(sources, d.Subject.Filename), paint)
		}
		if d.Detail != "" {
			fmt.Fprintf(bw, "  %s\n", strings.ReplaceAll(d.Detail, "\n", "\n  "))
		}
		fmt.Fprintln(bw)
	}
	return bw.Flush()
}

// readCached returns a spec file's bytes, read once; nil when it cannot be read.
func readCached(cache map[string][]byte, name string) []byte {
	b, ok := cache[name]
	if !ok {
		b, _ = os.ReadFile(name)
		cache[name] = b
	}
	return b
}

// writeSnippet prints the first line of rng and underlines the range on it.
func writeSnippet(w io.Writer, rng *hcl.Range, src []byte, paint func(code, s string) string) {
	if src == nil || rng.Start.Byte < 0 || rng.Start.Byte > len(src) {
		return
	}
	lineStart := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	lineEnd := len(src)
	if i := bytes.IndexByte(src[rng.Start.Byte:], '\n'); i >= 0 {
		lineEnd = rng.Start.Byte + i
	}
	line := strings.TrimRight(string(src[lineStart:lineEnd]), "\r")
	line = RedactText(line) // a snippet of a proxy setting never prints its credentials
	line = strings.ReplaceAll(line, "\t", " ")
	if !utf8.ValidString(line) {
		line = strings.ToValidUTF8(line, "?")
	}
	end := rng.End.Byte
	if end > lineEnd || rng.End.Line != rng.Start.Line {
		end = lineEnd
	}
	pad := utf8.RuneCount(src[lineStart:rng.Start.Byte])
	width := utf8.RuneCount(src[rng.Start.Byte:max(end, rng.Start.Byte)])
	if width < 1 {
		width = 1
	}
	num := fmt.Sprintf("%d", rng.Start.Line)
	fmt.Fprintf(w, "  %s | %s\n", num, line)
	fmt.Fprintf(w, "  %s | %s%s\n", strings.Repeat(" ", len(num)), strings.Repeat(" ", pad),
		paint(ansiCyan, strings.Repeat("^", width)))
}
