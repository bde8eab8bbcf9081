package spec

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSafeText(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, text, line string }{
		{"plain tag:1.0", "plain tag:1.0", "plain tag:1.0"},
		{"a\x1b[2Jb\x07", `a\x1b[2Jb\x07`, `a\x1b[2Jb\x07`},
		{"cr\rover", `cr\x0dover`, `cr\x0dover`},
		{"two\nlines\tx", "two\nlines\tx", `two\nlines\tx`},
		{"c1 \u009b31m", `c1 \u009b31m`, `c1 \u009b31m`},
		{"bidi \u202eevil", `bidi \u202eevil`, `bidi \u202eevil`},
		{"bad \xff utf8", `bad \xff utf8`, `bad \xff utf8`},
		{"ünïcödé ✓", "ünïcödé ✓", "ünïcödé ✓"},
		{"del\x7f", `del\x7f`, `del\x7f`},
	} {
		assert.Equal(t, tc.text, SafeText(tc.in), "SafeText(%q)", tc.in)
		assert.Equal(t, tc.line, SafeLine(tc.in), "SafeLine(%q)", tc.in)
	}
}
