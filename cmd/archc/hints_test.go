package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/archc-dev/archc/registry"
	"github.com/stretchr/testify/assert"
)

type testHinted struct{ msg, hint string }

func (e *testHinted) Error() string { return e.msg }
func (e *testHinted) Hint() string  { return e.hint }

// TestReportErrorHints: reportError finds hints through wrapping and joined errors and
// prints each once, after the message; the CLI's own hint hides the library's; the CLI adds
// the flags a library hint leaves out.
func TestReportErrorHints(t *testing.T) {
	t.Parallel()
	a := &testHinted{msg: "a failed", hint: "fix a"}
	b := &testHinted{msg: "b failed", hint: "fix b"}
	tests := []struct {
		name string
		err  error
		code int
		want string
	}{
		{name: "wrapped", err: fmt.Errorf("lock: %w", fmt.Errorf("resolve: %w", a)), code: exitFailure,
			want: "archc: lock: resolve: a failed\nhint: fix a\n"},
		{name: "joined, each once", err: fmt.Errorf("lock: %w", errors.Join(a, b, fmt.Errorf("again: %w", a))), code: exitFailure,
			want: "archc: lock: a failed\nb failed\nagain: a failed\nhint: fix a\nhint: fix b\n"},
		{name: "exit code kept", err: &exitError{code: exitUsage, err: fmt.Errorf("usage: %w", a)}, code: exitUsage,
			want: "archc: usage: a failed\nhint: fix a\n"},
		{name: "the CLI's hint hides the library's", err: withHint(fmt.Errorf("x: %w", a), "use --flag"), code: exitFailure,
			want: "archc: x: a failed\nhint: use --flag\n"},
		{name: "no hint", err: errors.New("plain"), code: exitFailure, want: "archc: plain\n"},
		{name: "the CLI adds the flag", err: fmt.Errorf("plan: %w", &registry.ResolveError{Ref: "docker.io/library/a:1",
			Hosts: []*registry.HostError{{Host: "registry-1.docker.io", Class: registry.ClassNotFound, Err: errors.New("not found")}}}),
			code: exitFailure, want: "hint: check the image name and tag; if the lock pins it and the tag was removed, run `archc lock --update --image docker.io/library/a:1`\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			assert.Equal(t, tt.code, reportError(&b, tt.err))
			if strings.HasPrefix(tt.want, "archc: ") {
				assert.Equal(t, tt.want, b.String())
			} else {
				assert.Contains(t, b.String(), tt.want)
			}
			assert.LessOrEqual(t, strings.Count(b.String(), "hint: "), 2)
		})
	}
}

// TestWriteErrorEscapes: a tag and a registry's error body holding terminal escapes are
// printed escaped, in the message and in the hints; the message keeps its lines.
func TestWriteErrorEscapes(t *testing.T) {
	t.Parallel()
	tag := "reg.test/app:\x1b]0;owned\a"
	body := errors.New("denied: \x1b[2J\x1b[31mfake prompt\u202e")
	err := fmt.Errorf("plan: %w", &registry.ResolveError{Ref: tag,
		Hosts: []*registry.HostError{{Host: "reg.test", Class: registry.ClassNotFound, Err: body}}})
	err = fmt.Errorf("%w\nlast log lines:\n  \x1b[1mline", err)
	var b bytes.Buffer
	writeError(&b, err)
	got := b.String()
	assert.NotContains(t, got, "\x1b")
	assert.NotContains(t, got, "\a")
	assert.NotContains(t, got, "\u202e")
	assert.Contains(t, got, `reg.test/app:\x1b]0;owned\x07`)
	assert.Contains(t, got, `denied: \x1b[2J\x1b[31mfake prompt\u202e`)
	assert.Contains(t, got, "\nlast log lines:\n  \\x1b[1mline\n", "the message keeps its lines")
	assert.Contains(t, got, "hint: check the image name and tag; if the lock pins it and the tag was removed, run `archc lock --update --image reg.test/app:\\x1b]0;owned\\x07`")
}

func TestWriteErrorBounded(t *testing.T) {
	t.Parallel()
	long := "hash context ctx: invalid excludepatterns: [" + strings.Repeat("ELF\x00\x7f\xff é", 200_000) + "] the end"
	var b strings.Builder
	writeError(&b, errors.New(long))
	out := b.String()
	assert.Less(t, len(out), maxErrorBytes+200)
	assert.True(t, strings.HasPrefix(out, "archc: hash context ctx: invalid excludepatterns: ["), out[:80])
	assert.Contains(t, out, "bytes left out")
	assert.True(t, strings.HasSuffix(out, "] the end\n"))
	assert.True(t, utf8.ValidString(out))
	assert.NotContains(t, out, "\x00")
}
