package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
		{name: "chdir in a flag cluster", args: []string{"lock", "-vC", "/tmp"}, code: exitUsage, stderrWant: "write -C DIR (or --chdir DIR) as its own argument"},
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

func TestChdirArg(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-C", "a", "plan"}, "a"},
		{[]string{"-Cb", "plan"}, "b"},
		{[]string{"--chdir", "c", "plan"}, "c"},
		{[]string{"--chdir=d", "plan", "-C", "e"}, "e"},
		{[]string{"plan", "--", "-C", "f"}, ""},
		{[]string{"plan", "--cache-dir", "x"}, ""},
	} {
		assert.Equal(t, tt.want, chdirArg(tt.args), "%v", tt.args)
	}
}

// TestChdirComesFirst: path flags are relative to --chdir, like SPEC and -f. Not parallel:
// it changes the process's working directory (t.Chdir restores it).
func TestChdirComesFirst(t *testing.T) {
	root := t.TempDir()
	t.Chdir(root)
	proj := filepath.Join(root, "proj")
	require.NoError(t, os.MkdirAll(filepath.Join(proj, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(proj, "app", "Dockerfile"), []byte("FROM scratch\nCOPY . /\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(proj, "archbuild.hcl"), []byte("component \"app\" {\n  context = \"./app\"\n}\n"), 0o644))

	code, _, stderr := runArchc("-C", "proj", "plan", "--cache-dir", "cache", "--out", "saved.plan")
	require.Equal(t, exitOK, code, stderr)
	assert.FileExists(t, filepath.Join(proj, "saved.plan"), "--out is relative to --chdir")
	assert.NoFileExists(t, filepath.Join(root, "saved.plan"))
	assert.NoDirExists(t, filepath.Join(root, "cache"), "--cache-dir is relative to --chdir")
}

// TestNoColorAnyValue: NO_COLOR set to anything turns colour off; it is never a usage error.
func TestNoColorAnyValue(t *testing.T) {
	for _, v := range []string{"", "1", "x", "true"} {
		t.Setenv("NO_COLOR", v)
		code, stdout, stderr := runArchc("version")
		assert.Equal(t, exitOK, code, "NO_COLOR=%q: %s", v, stderr)
		assert.Contains(t, stdout, "archc ")
	}
}
