package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckSource(t *testing.T) {
	t.Parallel()
	rep := strings.Repeat
	tests := []struct {
		name    string
		src     string
		summary string // "" when the source is fine
		pos     string // line:col of the diagnostic
		detail  string
	}{
		{"plain spec", "component \"a\" {\n  context = \"x\"\n}\n", "", "", ""},
		{"empty", "", "", "", ""},
		{"NUL byte", "a = 1\nb = \"x\x00\"\n", "Not a text file", "2:7", "spec.hcl: not a text file (binary data at byte 12: a NUL byte)"},
		{"invalid UTF-8", "a = \"é\xff\"\n", "Not a text file", "1:7", "binary data at byte 7: byte 0xff is not UTF-8"},
		{"invalid UTF-8 before a NUL", "\xfe\x00", "Not a text file", "1:1", "byte 0xfe"},
		{"control characters are text", "a = \"\x1b[2J\a\"\n", "", "", ""},
		{"too large", "# " + rep("x", MaxSourceSize), "File too large", "1:1", "larger than 4 MiB"},
		{"1000 brackets", "x = " + rep("[", 1000) + rep("]", 1000), "", "", ""},
		{"1001 brackets", "x = " + rep("[", 1001) + rep("]", 1001), "Nesting too deep", "1:1005", "More than 1000 levels"},
		{"100,000 brackets", "x = " + rep("[", 100000), "Nesting too deep", "1:1005", ""},
		{"nested blocks", rep("a {\n", 1001), "Nesting too deep", "1001:3", ""},
		{"parentheses on many lines", "x = " + rep("(\n", 1001), "Nesting too deep", "1001:1", ""},
		{"brackets in a string", "x = \"" + rep("[", 5000) + "\"\n", "", "", ""},
		{"brackets in comments", "# " + rep("[", 5000) + "\n// " + rep("{", 5000) + "\n/* " + rep("(", 5000) + " */\nx = 1\n", "", "", ""},
		{"brackets in a heredoc", "x = <<EOT\n" + rep("[", 5000) + "\n  EOT\ny = [1]\n", "", "", ""},
		{"escaped interpolations", "x = \"" + rep("$${", 5000) + "\"\n", "", "", ""},
		{"interpolations side by side", "x = \"" + rep("${a}", 5000) + "\"\n", "", "", ""},
		{"nested interpolations", "x = " + rep("\"${", 1001), "Nesting too deep", "1:3005", ""},
		{"nested directives", "x = <<EOT\n" + rep("%{if a}", 1001) + "\nEOT\n", "Nesting too deep", "2:6994", ""},
		{"closed directives", "x = <<EOT\n" + rep("%{if a}x%{endif}", 5000) + "\nEOT\n", "", "", ""},
		{"unary chain", "x = " + rep("!", 1001) + "true\n", "Nesting too deep", "1:1005", ""},
		{"binary chain", "x = 1" + rep(" + 1", 1001) + "\n", "Nesting too deep", "1:4007", ""},
		{"conditional chain", "x = " + rep("a ? 1 : ", 1001) + "1\n", "Nesting too deep", "1:8007", ""},
		{"index chain", "x = a" + rep("[b]", 1001) + "\n", "Nesting too deep", "1:3006", ""},
		{"binary chains on separate lines", rep("x = 1 + 1 + 1\n", 5000), "", "", ""},
		{"a long list", "x = [" + rep("-1, ", 5000) + "]\n", "", "", ""},
		{"a long object", "x = {\n" + rep("a = !true\n", 5000) + "}\n", "", "", ""},
		{"dashes in identifiers", "x = a" + rep("-b", 5000) + "\n", "", "", ""},
		{"many blocks", rep("component \"a\" {\n  tags = [\"x\"]\n}\n", 5000), "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			diags := CheckSource("spec.hcl", []byte(tt.src))
			if tt.summary == "" {
				require.Empty(t, diags)
				return
			}
			require.Len(t, diags, 1)
			d := diags[0]
			assert.Equal(t, tt.summary, d.Summary)
			assert.Equal(t, "spec.hcl", d.Subject.Filename)
			assert.Equal(t, tt.pos, posString(d.Subject.Start))
			assert.Contains(t, d.Detail, tt.detail)
		})
	}
}

func posString(p hcl.Pos) string { return fmt.Sprintf("%d:%d", p.Line, p.Column) }

// TestCheckSourceAcceptsEveryTestSpec: the scanner is conservative, so every spec HCL
// parses (and every one in the repository) passes it.
func TestCheckSourceAcceptsEveryTestSpec(t *testing.T) {
	t.Parallel()
	var files []string
	for _, pattern := range []string{"good/*.hcl", "merge/*.hcl", "merge/*/*.hcl", "bad/*.hcl", "../../examples/*.hcl", "../../examples/*/*.hcl"} {
		m, err := filepath.Glob(filepath.Join(testdata, pattern))
		require.NoError(t, err)
		files = append(files, m...)
	}
	require.Greater(t, len(files), 50)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		if _, d := hclsyntax.ParseConfig(b, f, hcl.InitialPos); d.HasErrors() || strings.Contains(f, "nesting_") {
			continue
		}
		assert.Empty(t, CheckSource(f, b), f)
	}
}

// TestCheckSourceLimitIsSafe: the deepest input CheckSource lets through, of each shape,
// parses and evaluates without trouble.
func TestCheckSourceLimitIsSafe(t *testing.T) {
	t.Parallel()
	rep := strings.Repeat
	n := MaxNesting
	for _, src := range []string{
		"x = " + rep("[", n) + rep("]", n),
		"x = " + rep("!", n-1) + "true",
		"x = 1" + rep(" + 1", n-1),
		"x = " + rep("true ? 1 : ", n-1) + "1",
		"x = " + rep("\"${", n-1) + "1" + rep("}\"", n-1),
	} {
		require.Empty(t, CheckSource("spec.hcl", []byte(src)), src[:20])
		f, diags := hclsyntax.ParseConfig([]byte(src), "spec.hcl", hcl.InitialPos)
		require.False(t, diags.HasErrors(), diags.Error())
		attrs, _ := f.Body.JustAttributes()
		_, diags = attrs["x"].Expr.Value(&hcl.EvalContext{})
		require.False(t, diags.HasErrors(), diags.Error())
	}
}

// TestLoadBadInput: each hostile shape, read from disk, yields one clear diagnostic.
func TestLoadBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	huge := append([]byte("locals {\n"), []byte(strings.Repeat("  a = \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n", MaxSourceSize/60+1))...)
	tests := []struct {
		name, file, want string
	}{
		{"larger than the limit", write("huge.hcl", huge), "huge.hcl:1:1: error: File too large"},
		{"an endless device", "/dev/zero", "zero:1:1: error: Not a text file"},
		{"deep --var value is refused", write("v.hcl", []byte("variable \"L\" {\n  type = list(any)\n}\n")), "v.hcl:1:1: error: Invalid value for variable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := Load(LoadOptions{Files: []string{tt.file}, Vars: map[string]string{"L": strings.Repeat("[", 100000)}})
			require.True(t, diags.HasErrors())
			assert.Equal(t, tt.want, diagString(diags[0]))
			assert.Len(t, diags, 1)
		})
	}
}

func TestReadSourceFile(t *testing.T) {
	t.Parallel()
	b, err := ReadSourceFile("/dev/zero")
	require.NoError(t, err)
	assert.Len(t, b, MaxSourceSize+1, "an endless file is read up to the limit, then refused")
	_, err = ReadSourceFile(filepath.Join(t.TempDir(), "missing.hcl"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
