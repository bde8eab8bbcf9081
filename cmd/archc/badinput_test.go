package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// childArgsEnv carries the archc arguments to TestBadInputChild, the same test binary
// re-executed as archc: a stack overflow is fatal to the whole process, so each hostile
// input runs in a process of its own, which also lets a hang be cut off by a deadline.
const childArgsEnv = "ARCHC_TEST_CHILD_ARGS"

// TestBadInputChild is archc itself when run by runChild; otherwise it does nothing.
func TestBadInputChild(t *testing.T) {
	raw := os.Getenv(childArgsEnv)
	if raw == "" {
		t.Skip("runs only as the child of TestBadInput")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	os.Exit(run(args, os.Stdout, os.Stderr))
}

// runChild runs archc with args in a child process, giving up after timeout.
func runChild(t *testing.T, timeout time.Duration, args ...string) (code int, out string) {
	t.Helper()
	raw, err := json.Marshal(args)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestBadInputChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childArgsEnv+"="+string(raw), "NO_COLOR=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err = cmd.Run()
	require.NoError(t, ctx.Err(), "archc %v did not finish within %s: a hang", args, timeout)
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), buf.String()
	}
	require.NoError(t, err)
	return 0, buf.String()
}

// TestBadInput: every hostile spec of issue 11 ends, quickly and with a clear error: no
// crash, no goroutine dump, no flood of output, no escape sequence reaching the terminal.
func TestBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	self, err := os.ReadFile(os.Args[0]) // an executable of tens of MB
	require.NoError(t, err)
	rep := strings.Repeat
	var manyErrors, huge strings.Builder
	for i := range 100000 {
		fmt.Fprintf(&manyErrors, "bogus_%d = 1\n", i)
	}
	huge.WriteString("locals {\n")
	for i := 0; huge.Len() < 50<<20; i++ {
		fmt.Fprintf(&huge, "  a%d = \"%s\"\n", i, rep("y", 1000))
	}
	huge.WriteString("}\n")
	escape, err := os.ReadFile(filepath.Join(specTestdata, "bad", "escape_tag.hcl"))
	require.NoError(t, err)
	escapeSpec := write("escape.hcl", bytes.ReplaceAll(escape, []byte("../ctx/app"), []byte(mustAbs(t, specTestdata+"/ctx/app"))))

	tests := []struct {
		name string
		args []string
		want string
	}{
		{"binary spec", []string{"validate", write("binary.hcl", self)}, "error: Not a text file"},
		{"2 MB of a binary", []string{"validate", write("prefix.hcl", self[:2<<20])}, "not a text file (binary data at byte"},
		{"binary spec, plan", []string{"plan", write("binary2.hcl", self[:1<<20])}, "error: Not a text file"},
		{"100,000 nested brackets", []string{"validate", write("deep.hcl", []byte("x = "+rep("[", 100000)+rep("]", 100000)+"\n"))}, "error: Nesting too deep"},
		{"100,000 nested parentheses, plan", []string{"plan", write("deep2.hcl", []byte("locals {\n  x = "+rep("(", 100000)+"\n}\n"))}, "error: Nesting too deep"},
		{"100,000 errors", []string{"validate", write("errors.hcl", []byte(manyErrors.String()))}, "… and 99950 more errors\n"},
		{"escape in a tag", []string{"validate", escapeSpec}, `tags    = ["r.invalid/x:1\x1b]0;pwned\x07\x1b[2J"]`},
		{"50 MB spec", []string{"validate", write("huge.hcl", []byte(huge.String()))}, "error: File too large"},
		{"jsondecode of deep JSON", []string{"validate", write("json.hcl", []byte("locals {\n  x = jsondecode(\""+rep("[", 1000000)+"\")\n}\n"))}, "JSON nested more than 1000 levels deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, out := runChild(t, 2*time.Minute, tt.args...)
			assert.Equal(t, exitFailure, code, out)
			assert.Less(t, len(out), 64<<10, "bounded output")
			assert.Contains(t, out, tt.want)
			for _, crash := range []string{"goroutine ", "fatal error", "panic:", "stack overflow"} {
				assert.NotContains(t, out, crash)
			}
			assert.NotContains(t, out, "\x1b", "no escape sequence reaches the terminal")
			assert.NotContains(t, out, "\a")
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	abs, err := filepath.Abs(p)
	require.NoError(t, err)
	return abs
}
