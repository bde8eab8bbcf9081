package spec

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// epochProject writes files (name → content) and an empty context directory "app" into a
// temporary directory and returns the paths of the .hcl files, in names' order.
func epochProject(t *testing.T, names []string, files map[string]string) (string, []string) {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	var out []string
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte(files[n]), 0o644))
		out = append(out, filepath.Join(dir, n))
	}
	return dir, out
}

func epochs(s *Spec) map[string]any {
	out := map[string]any{}
	for _, c := range s.Components {
		if c.SourceDateEpoch == nil {
			out[c.Name] = nil
			continue
		}
		out[c.Name] = *c.SourceDateEpoch
	}
	return out
}

func TestSourceDateEpoch(t *testing.T) {
	// Not parallel: it replaces gitCommitTime.
	calls := 0
	gitCommitTime = func(string) (int64, error) { calls++; return 1711111111, nil }
	t.Cleanup(func() { gitCommitTime = defaultGitCommitTime })
	tests := []struct {
		name  string
		files []string // merged in order
		text  map[string]string
		vars  map[string]string
		want  map[string]any
		git   int // git calls expected
	}{
		{name: "none", files: []string{"a.hcl"}, text: map[string]string{"a.hcl": `component "x" { context = "app" }`},
			want: map[string]any{"x": nil}},
		{name: "top-level default, component override", files: []string{"a.hcl"}, text: map[string]string{"a.hcl": `
source_date_epoch = 1700000000
component "x" { context = "app" }
component "y" {
  context = "app"
  source_date_epoch = 0
}`}, want: map[string]any{"x": int64(1700000000), "y": int64(0)}},
		{name: "a string of digits, from a variable", files: []string{"a.hcl"}, vars: map[string]string{"SDE": "1600000000"}, text: map[string]string{"a.hcl": `
variable "SDE" { default = "" }
source_date_epoch = var.SDE
component "x" { context = "app" }`}, want: map[string]any{"x": int64(1600000000)}},
		{name: "null takes the default", files: []string{"a.hcl"}, text: map[string]string{"a.hcl": `
source_date_epoch = 5
component "x" {
  context = "app"
  source_date_epoch = null
}`}, want: map[string]any{"x": int64(5)}},
		{name: "git read once for every component", files: []string{"a.hcl"}, text: map[string]string{"a.hcl": `
source_date_epoch = "git"
component "x" { context = "app" }
component "y" { context = "app" }
component "z" {
  context = "app"
  source_date_epoch = "git"
}`}, want: map[string]any{"x": int64(1711111111), "y": int64(1711111111), "z": int64(1711111111)}, git: 1},
		{name: "later file wins", files: []string{"a.hcl", "b.hcl"}, text: map[string]string{
			"a.hcl": "source_date_epoch = 1\ncomponent \"x\" {\n  context = \"app\"\n  source_date_epoch = 2\n}\ncomponent \"y\" { context = \"app\" }\n",
			"b.hcl": "source_date_epoch = 3\ncomponent \"x\" { source_date_epoch = 4 }\n",
		}, want: map[string]any{"x": int64(4), "y": int64(3)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = 0
			_, files := epochProject(t, tt.files, tt.text)
			s, diags := Load(LoadOptions{Files: files, Vars: tt.vars})
			require.False(t, diags.HasErrors(), "%v", diags)
			assert.Equal(t, tt.want, epochs(s))
			assert.Equal(t, tt.git, calls, "git calls")
			for _, nc := range s.Normalized().Components {
				assert.Equal(t, tt.want[nc.Name] == nil, nc.SourceDateEpoch == nil, nc.Name)
			}
		})
	}
}

func TestSourceDateEpochErrors(t *testing.T) {
	gitCommitTime = func(string) (int64, error) { return 0, errors.New("the spec's directory is not in a git repository") }
	t.Cleanup(func() { gitCommitTime = defaultGitCommitTime })
	tests := []struct {
		value, pos, detail string
	}{
		{`-1`, "1:21", "is -1"},
		{`1.5`, "1:21", "is 1.5"},
		{`"yesterday"`, "1:21", `is "yesterday"`},
		{`" 12"`, "1:21", `is " 12"`},
		{`["1"]`, "1:21", "a tuple"},
		{`253402300800`, "1:21", "is 253402300800"},
		{`"git"`, "1:21", "not in a git repository"},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			_, files := epochProject(t, []string{"a.hcl"}, map[string]string{"a.hcl": "source_date_epoch = " + tt.value + "\ncomponent \"x\" { context = \"app\" }\ncomponent \"y\" { context = \"app\" }\n"})
			_, diags := Load(LoadOptions{Files: files})
			require.Len(t, diags, 1, "one diagnostic however many components use the default: %v", diags)
			assert.Contains(t, diagString(diags[0]), tt.pos+": error:")
			assert.Contains(t, diags[0].Detail, tt.detail)
		})
	}
}

// TestGitCommitTime runs the real git: in a repository, the last commit's time; outside
// one, an error that says so.
func TestGitCommitTime(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	t.Parallel()
	dir := t.TempDir()
	_, err := defaultGitCommitTime(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not in a git repository")

	git := func(args ...string) {
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_COMMITTER_DATE=@1700000123 +0000", "GIT_AUTHOR_DATE=@1600000000 +0000",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "%s", out)
	}
	git("init", "-q")
	_, err = defaultGitCommitTime(dir)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no commit yet")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	git("add", "f")
	git("commit", "-q", "-m", "one")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	n, err := defaultGitCommitTime(filepath.Join(dir, "sub"))
	require.NoError(t, err)
	assert.Equal(t, int64(1700000123), n, "the committer time, not the author time")
}

func TestGitErrorNotInstalled(t *testing.T) {
	t.Parallel()
	err := gitError(&exec.Error{Name: "git", Err: exec.ErrNotFound}, "")
	assert.True(t, strings.Contains(err.Error(), "git is not installed"), err.Error())
}
