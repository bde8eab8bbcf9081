package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHelpAndUsageExitCodes: help stops after printing (it must not go on to run the command),
// and a malformed command line is a usage error.
func TestHelpAndUsageExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		code       int
		stdout     string // substring
		stderrNot  string
		stderrWant string
	}{
		{name: "top help", args: []string{"--help"}, code: exitOK, stdout: "Usage: archc"},
		{name: "verb help", args: []string{"lock", "--help"}, code: exitOK, stdout: "Usage: archc lock", stderrNot: "spec"},
		{name: "no command", args: nil, code: exitUsage, stderrWant: "expected one of"},
		{name: "unknown flag", args: []string{"validate", "--nope"}, code: exitUsage, stderrWant: "unknown flag --nope"},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, stderrWant: "unexpected argument frobnicate"},
		{name: "bad chdir", args: []string{"--chdir", "/nonexistent-archc-dir", "version"}, code: exitUsage, stderrWant: "nonexistent-archc-dir"},
		{name: "version", args: []string{"version"}, code: exitOK, stdout: "buildkit v0.34.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := runArchc(tt.args...)
			assert.Equal(t, tt.code, code, "stdout=%s\nstderr=%s", stdout, stderr)
			assert.Contains(t, stdout, tt.stdout)
			assert.Contains(t, stderr, tt.stderrWant)
			if tt.stderrNot != "" {
				assert.NotContains(t, stderr, tt.stderrNot)
			}
		})
	}
}

func TestSingleDashLong(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want []string }{
		{[]string{"plan", "-out", "p.json"}, []string{"plan", "--out", "p.json"}},
		{[]string{"plan", "-out=p.json", "-o", "x"}, []string{"plan", "--out=p.json", "-o", "x"}},
		{[]string{"plan", "--", "-out"}, []string{"plan", "--", "-out"}},
		{[]string{"plan", "-outx"}, []string{"plan", "-outx"}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, singleDashLong(tt.in))
	}
}
