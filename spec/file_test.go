package spec

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeTree writes files (path -> content) under dir.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, content := range files {
		full := filepath.Join(dir, p)
		require.NoError(t, os.MkdirAll(filepath.Dir(full), 0o755))
		require.NoError(t, os.WriteFile(full, []byte(content), 0o644))
	}
}

// fileSpec is a spec whose component labels read daemon.json through file().
const fileSpec = `
locals {
  daemon = jsondecode(file("daemon.json"))
}
component "app" {
  context = "."
  labels  = { mirror = local.daemon["registry-mirrors"][0] }
}
`

func TestFileFunction(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		".git/HEAD":         "ref: refs/heads/main\n",
		"Dockerfile":        "FROM scratch\n",
		"daemon.json":       `{"registry-mirrors": ["https://mirror.example"]}`,
		"sub/archbuild.hcl": strings.ReplaceAll(fileSpec, `"."`, `"../"`),
		"archbuild.hcl":     fileSpec,
	})
	s, diags := Load(LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	require.False(t, diags.HasErrors(), "%v", diags)
	assert.Equal(t, "https://mirror.example", s.Components[0].Labels["mirror"])

	// Relative to the spec file that calls it: sub/ has no daemon.json.
	_, diags = Load(LoadOptions{Files: []string{filepath.Join(dir, "sub/archbuild.hcl")}})
	require.True(t, diags.HasErrors())
	assert.Equal(t, "archbuild.hcl:3:29: error: Invalid function argument", diagString(diags[0]))
	assert.Contains(t, diags[0].Detail, "daemon.json")

	// In a second -f file in sub/, file() reads sub's file.
	writeTree(t, dir, map[string]string{
		"sub/daemon.json":  `{"registry-mirrors": ["https://sub.example"]}`,
		"sub/override.hcl": "locals {\n  other = file(\"daemon.json\")\n}\ncomponent \"app\" {\n  labels = { mirror = jsondecode(file(\"daemon.json\"))[\"registry-mirrors\"][0] }\n}\n",
	})
	s, diags = Load(LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl"), filepath.Join(dir, "sub/override.hcl")}})
	require.False(t, diags.HasErrors(), "%v", diags)
	assert.Equal(t, "https://sub.example", s.Components[0].Labels["mirror"])
}

// TestFileFunctionRefuses: every read that could escape the repository or differ between
// reads is an error located at the call's argument.
func TestFileFunctionRefuses(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret.txt": "s3cr3t"})
	tests := []struct {
		name, call, detail string
		setup              func(t *testing.T, repo string)
	}{
		{name: "dot-dot escape", call: `file("../secret.txt")`, detail: "outside the repository"},
		{name: "absolute outside", call: `file("` + filepath.Join(outside, "secret.txt") + `")`, detail: "outside the repository"},
		{name: "symlink out", call: `file("link.txt")`, detail: "outside the repository", setup: func(t *testing.T, repo string) {
			require.NoError(t, os.Symlink(filepath.Join(outside, "secret.txt"), filepath.Join(repo, "link.txt")))
		}},
		{name: "directory", call: `file("sub")`, detail: "not a regular file (a directory)", setup: func(t *testing.T, repo string) {
			require.NoError(t, os.Mkdir(filepath.Join(repo, "sub"), 0o755))
		}},
		{name: "fifo", call: `file("pipe")`, detail: "a named pipe", setup: func(t *testing.T, repo string) {
			require.NoError(t, syscall.Mkfifo(filepath.Join(repo, "pipe"), 0o644))
		}},
		{name: "missing", call: `file("nope.json")`, detail: "read nope.json: no such file or directory"},
		{name: "too large", call: `file("big")`, detail: "larger than 4 MiB", setup: func(t *testing.T, repo string) {
			require.NoError(t, os.WriteFile(filepath.Join(repo, "big"), make([]byte, MaxSourceSize+1), 0o644))
		}},
		{name: "not utf-8", call: `file("bin")`, detail: "not UTF-8 text", setup: func(t *testing.T, repo string) {
			require.NoError(t, os.WriteFile(filepath.Join(repo, "bin"), []byte{0xff, 0xfe}, 0o644))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			repo := filepath.Join(t.TempDir(), "repo")
			writeTree(t, repo, map[string]string{"Dockerfile": "FROM scratch\n",
				"archbuild.hcl": "component \"app\" {\n  context = \".\"\n  labels = { x = " + tt.call + " }\n}\n"})
			if tt.setup != nil {
				tt.setup(t, repo)
			}
			_, diags := Load(LoadOptions{Files: []string{filepath.Join(repo, "archbuild.hcl")}})
			require.True(t, diags.HasErrors())
			assert.Equal(t, "archbuild.hcl:3:24: error: Invalid function argument", diagString(diags[0]))
			assert.Contains(t, diags[0].Detail, tt.detail)
			assert.NotContains(t, diags.Error(), "s3cr3t")
		})
	}
}

func TestFileFunctionCallShape(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"Dockerfile": "FROM scratch\n", "a": "x",
		"archbuild.hcl": "component \"app\" {\n  context = \".\"\n  labels = { x = file(\"a\", \"/\") }\n}\n"})
	_, diags := Load(LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	require.True(t, diags.HasErrors())
	assert.Equal(t, "archbuild.hcl:3:18: error: Invalid file() call", diagString(diags[0]))
}

// TestFileRepoRoot: the repository is the nearest directory with .git, else the spec's.
func TestFileRepoRoot(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{".git": "gitdir: ../x\n", "shared/daemon.json": "{}", "svc/Dockerfile": "FROM scratch\n",
		"svc/archbuild.hcl": "component \"app\" {\n  context = \".\"\n  labels = { x = file(\"../shared/daemon.json\") }\n}\n"})
	s, diags := Load(LoadOptions{Files: []string{filepath.Join(dir, "svc/archbuild.hcl")}})
	require.False(t, diags.HasErrors(), "%v", diags)
	assert.Equal(t, "{}", s.Components[0].Labels["x"])

	require.NoError(t, os.Remove(filepath.Join(dir, ".git")))
	_, diags = Load(LoadOptions{Files: []string{filepath.Join(dir, "svc/archbuild.hcl")}})
	require.True(t, diags.HasErrors())
	assert.Contains(t, diags[0].Detail, "outside the repository")
}
