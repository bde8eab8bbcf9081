package spec

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
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

// MaxDiagnosticsShown is how many diagnostics WriteDiagnostics prints; the rest are
// counted on one line. A binary file given as a spec once printed 305,657 errors (784 MB);
// nobody reads past the first screen, and the first errors are the ones to fix.
const MaxDiagnosticsShown = 50

// WriteDiagnostics prints each diagnostic as
//
//	archbuild.hcl:12:15: error: Invalid platform
//	  12 |   platforms = ["linux/amd64", "arm"]
//	     |                               ^^^^^
//	  Cannot parse platform "arm": ...
//
// reading the spec files the diagnostics point into for the snippets (a diagnostic about
// a --var value has no file and so no snippet). color adds ANSI colors. It prints at most
// MaxDiagnosticsShown (errors first, each group in order) and then "… and N more". Every
// text taken from input (file name, summary, detail, snippet) goes through SafeText, so a
// spec cannot send escape sequences to the terminal; archc's own colors are added after.
func WriteDiagnostics(w io.Writer, diags hcl.Diagnostics, color bool) error {
	bw := bufio.NewWriter(w)
	sources := map[string][]byte{}
	paint := func(code, s string) string {
		if !color {
			return s
		}
		return code + s + ansiReset
	}
	shown, hiddenErrs, hiddenWarns := pickShown(diags, MaxDiagnosticsShown)
	for _, d := range shown {
		sev := paint(ansiRed, "error")
		if d.Severity == hcl.DiagWarning {
			sev = paint(ansiYellow, "warning")
		}
		summary := paint(ansiBold, SafeLine(d.Summary))
		if d.Subject == nil {
			fmt.Fprintf(bw, "%s: %s\n", sev, summary)
		} else {
			fmt.Fprintf(bw, "%s:%d:%d: %s: %s\n", SafeLine(d.Subject.Filename), d.Subject.Start.Line,
				d.Subject.Start.Column, sev, summary)
			writeSnippet(bw, d.Subject, readCached(sources, d.Subject.Filename), paint)
		}
		if d.Detail != "" {
			fmt.Fprintf(bw, "  %s\n", strings.ReplaceAll(SafeText(d.Detail), "\n", "\n  "))
		}
		fmt.Fprintln(bw)
	}
	if more := moreText(hiddenErrs, hiddenWarns); more != "" {
		fmt.Fprintf(bw, "… and %s\n", more)
	}
	return bw.Flush()
}

// pickShown returns the first max diagnostics to print, errors before warnings (each in
// the order given), and how many errors and warnings are left out.
func pickShown(diags hcl.Diagnostics, max int) (shown hcl.Diagnostics, errs, warns int) {
	if len(diags) <= max {
		return diags, 0, 0
	}
	for _, wantErr := range []bool{true, false} {
		for _, d := range diags {
			if (d.Severity == hcl.DiagError) != wantErr {
				continue
			}
			switch {
			case len(shown) < max:
				shown = append(shown, d)
			case wantErr:
				errs++
			default:
				warns++
			}
		}
	}
	return shown, errs, warns
}

// moreText is "3 more errors and 1 more warning", or "" when nothing is left out.
func moreText(errs, warns int) string {
	plural := func(n int, what string) string {
		if n == 1 {
			return fmt.Sprintf("%d more %s", n, what)
		}
		return fmt.Sprintf("%d more %ss", n, what)
	}
	switch {
	case errs > 0 && warns > 0:
		return plural(errs, "error") + " and " + plural(warns, "warning")
	case errs > 0:
		return plural(errs, "error")
	case warns > 0:
		return plural(warns, "warning")
	}
	return ""
}

// readCached returns a spec file's bytes, read once (no more than a parsed file can hold);
// nil when it cannot be read.
func readCached(cache map[string][]byte, name string) []byte {
	b, ok := cache[name]
	if !ok {
		b, _ = ReadSourceFile(name)
		cache[name] = b
	}
	return b
}

// snippetWidth is the most characters of a source line a snippet shows: a minified or
// binary "line" can be megabytes long.
const snippetWidth = 120

// writeSnippet prints the first line of rng and underlines the range on it: a window of
// snippetWidth characters around the range's start when the line is longer, escaped
// (SafeLine) and with URL credentials masked.
func writeSnippet(w io.Writer, rng *hcl.Range, src []byte, paint func(code, s string) string) {
	if src == nil || rng.Start.Byte < 0 || rng.Start.Byte > len(src) {
		return
	}
	lineStart := bytes.LastIndexByte(src[:rng.Start.Byte], '\n') + 1
	lineEnd := len(src)
	if i := bytes.IndexByte(src[rng.Start.Byte:], '\n'); i >= 0 {
		lineEnd = rng.Start.Byte + i
	}
	end := rng.End.Byte
	if end > lineEnd || end < rng.Start.Byte || rng.End.Line != rng.Start.Line {
		end = lineEnd
	}
	before := src[lineStart:rng.Start.Byte]
	inside := src[rng.Start.Byte:end]
	after := bytes.TrimRight(src[end:lineEnd], "\r")
	head, tail := "", ""
	if utf8.RuneCount(before)+utf8.RuneCount(inside)+utf8.RuneCount(after) > snippetWidth {
		if keep := snippetWidth / 3; utf8.RuneCount(before) > keep { // context before the range
			before, head = lastChars(before, keep), "…"
		}
		room := snippetWidth - utf8.RuneCount(before)
		if n := utf8.RuneCount(inside); n > room {
			inside, after, tail = firstChars(inside, room), nil, "…"
		} else if utf8.RuneCount(after) > room-n {
			after, tail = firstChars(after, room-n), "…"
		}
	}
	text := func(b []byte) string { return SafeLine(strings.ReplaceAll(string(b), "\t", " ")) }
	pre, mid := head+text(before), text(inside)
	// A snippet of a proxy setting never prints its credentials.
	line := RedactText(pre + mid + text(after) + tail)
	pad := utf8.RuneCountInString(pre)
	width := max(utf8.RuneCountInString(mid), 1)
	num := fmt.Sprintf("%d", rng.Start.Line)
	fmt.Fprintf(w, "  %s | %s\n", num, line)
	fmt.Fprintf(w, "  %s | %s%s\n", strings.Repeat(" ", len(num)), strings.Repeat(" ", pad),
		paint(ansiCyan, strings.Repeat("^", width)))
}

// firstChars is the first n characters of b (an invalid byte counts as one).
func firstChars(b []byte, n int) []byte {
	i := 0
	for ; n > 0 && i < len(b); n-- {
		_, size := utf8.DecodeRune(b[i:])
		i += size
	}
	return b[:i]
}

// lastChars is the last n characters of b (an invalid byte counts as one).
func lastChars(b []byte, n int) []byte {
	i := len(b)
	for ; n > 0 && i > 0; n-- {
		_, size := utf8.DecodeLastRune(b[:i])
		i -= size
	}
	return b[i:]
}
