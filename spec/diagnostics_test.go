package spec

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteDiagnostics(t *testing.T) {
	t.Parallel()
	file := filepath.Join(testdata, "bad", "bad_proxy_url.hcl")
	_, diags := Load(LoadOptions{Files: []string{file}})
	require.Len(t, diags, 1)

	var plain bytes.Buffer
	require.NoError(t, WriteDiagnostics(&plain, diags, false))
	assert.Equal(t, file+`:3:17: error: Invalid proxy URL
  3 |   https_proxy = "ftp://xxxxx@127.0.0.1:8888"
    |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  https_proxy: scheme must be http, https, socks5 or socks5h, got "ftp".

`, plain.String(), "snippet with the password redacted")

	var colored bytes.Buffer
	require.NoError(t, WriteDiagnostics(&colored, diags, true))
	assert.Contains(t, colored.String(), ansiRed+"error"+ansiReset)
	assert.NotContains(t, colored.String(), "s3cret")
}

func TestWriteDiagnosticsWithoutFile(t *testing.T) {
	t.Parallel()
	_, diags := Load(LoadOptions{Files: []string{filepath.Join(testdata, "good", "full.hcl")}, Vars: map[string]string{"NOPE": "1"}})
	var out bytes.Buffer
	require.NoError(t, WriteDiagnostics(&out, diags, false))
	assert.Equal(t, "error: Undefined variable\n  --var NOPE=... sets a variable the spec does not declare; add a variable \"NOPE\" block or drop the flag.\n\n", out.String())
}

// TestWriteDiagnosticsEscapes: an ESC/BEL sequence in a spec reaches the terminal escaped,
// in the snippet, the summary, the detail and the file name, while archc's colors stay.
func TestWriteDiagnosticsEscapes(t *testing.T) {
	t.Parallel()
	file := filepath.Join(testdata, "bad", "escape_tag.hcl")
	_, diags := Load(LoadOptions{Files: []string{file}})
	require.True(t, diags.HasErrors())
	evil := "\x1b]0;pwned\a\x1b[2J\u202e"
	diags = append(diags,
		&hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Bad " + evil, Detail: "line one\n" + evil},
		&hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "w", Subject: &hcl.Range{Filename: "x" + evil + ".hcl"}},
	)
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		require.NoError(t, WriteDiagnostics(&out, diags, color))
		text := out.String()
		assert.Contains(t, text, `  3 |   tags    = ["r.invalid/x:1\x1b]0;pwned\x07\x1b[2J"]`+"\n")
		assert.Contains(t, text, `Bad \x1b]0;pwned\x07\x1b[2J\u202e`)
		assert.Contains(t, text, "  line one\n  \\x1b]0;pwned")
		assert.Contains(t, text, `x\x1b]0;pwned\x07\x1b[2J\u202e.hcl:0:0`)
		for _, own := range []string{ansiReset, ansiBold, ansiRed, ansiYellow, ansiCyan} {
			text = strings.ReplaceAll(text, own, "")
		}
		assert.NotContains(t, text, "\x1b", "no escape but archc's own colors")
		assert.NotContains(t, text, "\a")
		assert.NotContains(t, text, "\u202e")
		if color {
			assert.Contains(t, out.String(), ansiRed+"error"+ansiReset)
		}
	}
}

// TestWriteDiagnosticsCap: past MaxDiagnosticsShown, errors come first and the rest are
// counted; the value itself keeps every diagnostic.
func TestWriteDiagnosticsCap(t *testing.T) {
	t.Parallel()
	var diags hcl.Diagnostics
	for i := range 5 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: fmt.Sprintf("warning %d", i)})
	}
	for i := range 120 {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: fmt.Sprintf("error %d", i)})
	}
	var out bytes.Buffer
	require.NoError(t, WriteDiagnostics(&out, diags, false))
	text := out.String()
	assert.Equal(t, MaxDiagnosticsShown, strings.Count(text, "error: "))
	assert.Contains(t, text, "error: error 0\n")
	assert.Contains(t, text, "error: error 49\n")
	assert.NotContains(t, text, "error 50\n")
	assert.NotContains(t, text, "warning: ")
	assert.True(t, strings.HasSuffix(text, "… and 70 more errors and 5 more warnings\n"), text[len(text)-80:])
	assert.Len(t, diags, 125)

	tests := []struct {
		errs, warns int
		want        string
	}{
		{MaxDiagnosticsShown, 0, ""},
		{MaxDiagnosticsShown + 1, 0, "… and 1 more error\n"},
		{0, MaxDiagnosticsShown + 2, "… and 2 more warnings\n"},
		{MaxDiagnosticsShown - 1, 3, "… and 2 more warnings\n"},
	}
	for _, tt := range tests {
		var diags hcl.Diagnostics
		for range tt.errs {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "e"})
		}
		for range tt.warns {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "w"})
		}
		var out bytes.Buffer
		require.NoError(t, WriteDiagnostics(&out, diags, false))
		assert.Equal(t, MaxDiagnosticsShown, strings.Count(out.String(), ": e\n")+strings.Count(out.String(), ": w\n"))
		if tt.want == "" {
			assert.NotContains(t, out.String(), "more")
		} else {
			assert.True(t, strings.HasSuffix(out.String(), tt.want), out.String())
		}
	}
}

// TestWriteSnippetWindow: a snippet of a long line shows a window around the range, with
// the caret under it.
func TestWriteSnippetWindow(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 5000)
	tests := []struct {
		name  string
		src   string
		start int // byte offset of the range on line 1
		end   int
		line  string
		caret string
	}{
		{"short line", "x = [1, 2]", 4, 10, "x = [1, 2]", "    ^^^^^^"},
		{"range far right", long + "BAD" + long, 5000, 5003,
			"…" + strings.Repeat("a", 40) + "BAD" + strings.Repeat("a", 77) + "…",
			strings.Repeat(" ", 41) + "^^^"},
		{"range at the start", "BAD" + long, 0, 3, "BAD" + strings.Repeat("a", 117) + "…", "^^^"},
		{"long range", long, 10, 5000, strings.Repeat("a", 120) + "…", strings.Repeat(" ", 10) + strings.Repeat("^", 110)},
		{"escapes widen the caret", "x = \"\x1b[2J\"", 4, 10, `x = "\x1b[2J"`, "    " + strings.Repeat("^", 9)},
		{"tabs become spaces", "\tx = 1", 1, 2, " x = 1", " ^"},
		{"invalid UTF-8 shown as bytes", "x = \"\xff\"", 4, 7, `x = "\xff"`, "    ^^^^^^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rng := &hcl.Range{Start: hcl.Pos{Line: 1, Column: 1, Byte: tt.start}, End: hcl.Pos{Line: 1, Byte: tt.end}}
			var out bytes.Buffer
			writeSnippet(&out, rng, []byte(tt.src), func(_, s string) string { return s })
			assert.Equal(t, "  1 | "+tt.line+"\n    | "+tt.caret+"\n", out.String())
		})
	}
}
