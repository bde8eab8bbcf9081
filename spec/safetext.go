package spec

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// SafeText makes text that came from input (a spec, a Dockerfile, a registry's answer, a
// tag) harmless to print on a terminal: control characters other than newline and tab
// (ESC, BEL, CR, DEL, the C1 range) and the Unicode bidirectional overrides are written as
// Go escapes (`\x1b`, `\u202e`), and invalid UTF-8 bytes as `\xNN`. Without it, a tag with
// an ESC sequence could rewrite the reader's screen, and a bidi override could make a line
// read differently from what it is. archc's own colours are added after escaping.
func SafeText(s string) string {
	if isSafe(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafeRune(r) && r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// SafeLine is SafeText for text that must stay on one line (a snippet, a table cell):
// newlines and tabs are escaped too.
func SafeLine(s string) string {
	s = SafeText(s)
	if !strings.ContainsAny(s, "\n\t") {
		return s
	}
	return strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
}

func isSafe(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || unsafeRune(r) {
			return false
		}
	}
	return true
}

// unsafeRune reports the runes SafeText escapes.
func unsafeRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e || r == 0x200f:
		return true
	}
	return false
}
