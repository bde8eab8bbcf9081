package main

import (
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
	"github.com/google/shlex"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	yaml "go.yaml.in/yaml/v3"
)

const ciExamples = "../../examples/ci"

// githubWorkflow is what TestCIExamples reads of a GitHub Actions workflow.
type githubWorkflow struct {
	On   map[string]any `yaml:"on"`
	Jobs map[string]struct {
		If    string `yaml:"if"`
		Steps []struct {
			Run string `yaml:"run"`
		} `yaml:"steps"`
	} `yaml:"jobs"`
}

// gitlabJob is what TestCIExamples reads of a GitLab CI job.
type gitlabJob struct {
	Extends      string              `yaml:"extends"`
	Rules        []map[string]string `yaml:"rules"`
	BeforeScript []string            `yaml:"before_script"`
	Script       []string            `yaml:"script"`
}

// TestCIExamples: the CI examples parse as YAML, plan on pull/merge requests and apply on
// the main branch, and every archc command line they run is one archc's own parser
// accepts (verbs, flags, enum values), with the flags the README promises.
func TestCIExamples(t *testing.T) {
	t.Parallel()
	files := t.TempDir() // what "$VAR/..." arguments stand for: an existing file
	placeholder := filepath.Join(files, "placeholder")
	require.NoError(t, os.WriteFile(placeholder, []byte("{}"), 0o644))

	t.Run("github", func(t *testing.T) {
		t.Parallel()
		var wf githubWorkflow
		readYAML(t, filepath.Join(ciExamples, "github", "archc.yml"), &wf)
		assert.Contains(t, wf.On, "pull_request")
		assert.NotContains(t, wf.On, "pull_request_target", "the pull request's code never runs with a write token and secrets")
		assert.Equal(t, map[string]any{"branches": []any{"main"}}, wf.On["push"])
		byJob := map[string][][]string{}
		for name, job := range wf.Jobs {
			for _, st := range job.Steps {
				byJob[name] = append(byJob[name], archcCommands(t, st.Run, placeholder)...)
			}
		}
		assert.Contains(t, wf.Jobs["plan"].If, "pull_request")
		assert.Contains(t, wf.Jobs["apply"].If, "refs/heads/main")
		assert.Len(t, byJob["plan"], 3, "base as JSON; the change compared, or alone when the base has no spec")
		checkCICommands(t, byJob["plan"], byJob["apply"])
	})
	t.Run("gitlab", func(t *testing.T) {
		t.Parallel()
		var jobs map[string]any
		readYAML(t, filepath.Join(ciExamples, "gitlab", ".gitlab-ci.yml"), &jobs)
		byJob, rules := map[string][][]string{}, map[string]string{}
		for name := range jobs {
			job, ok := gitlabJobNamed(t, jobs, name)
			if !ok || strings.HasPrefix(name, ".") {
				continue
			}
			for _, s := range append(job.BeforeScript, job.Script...) {
				byJob[name] = append(byJob[name], archcCommands(t, s, placeholder)...)
			}
			for _, r := range job.Rules {
				rules[name] += r["if"]
			}
		}
		assert.Equal(t, `$CI_PIPELINE_SOURCE == "merge_request_event"`, rules["archc-plan"])
		assert.Equal(t, `$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH`, rules["archc-apply"])
		assert.Len(t, byJob["archc-plan"], 3, "base as JSON; the change compared, or alone when the base has no spec")
		checkCICommands(t, byJob["archc-plan"], byJob["archc-apply"])
	})
}

// checkCICommands: every command parses; the plan job plans the base as JSON and the
// change as markdown against it, locked; the apply job applies locked.
func checkCICommands(t *testing.T, plan, apply [][]string) {
	t.Helper()
	require.NotEmpty(t, plan, "the plan job runs archc")
	require.NotEmpty(t, apply, "the apply job runs archc")
	for _, args := range append(slices.Clone(plan), apply...) {
		assert.NoError(t, parseArchc(args), "archc %s", strings.Join(args, " "))
		assert.Contains(t, args, "--locked", "archc %s: CI uses the committed lock", strings.Join(args, " "))
	}
	has := func(cmds [][]string, verb string, flags ...string) bool {
		for _, args := range cmds {
			if firstArg(args) == verb && containsSeq(args, flags) {
				return true
			}
		}
		return false
	}
	assert.True(t, has(plan, "plan", "--format", "json"), "the base branch's plan, as JSON: %q", plan)
	assert.True(t, has(plan, "plan", "--compare"), "the change compared with it: %q", plan)
	assert.True(t, has(plan, "plan", "--format", "markdown"), "as markdown: %q", plan)
	assert.True(t, has(apply, "apply", "--locked"), "apply on main: %q", apply)
	assert.False(t, has(plan, "apply"), "no apply on a pull request")
}

// gitlabJobNamed decodes a GitLab job, with what it extends underneath.
func gitlabJobNamed(t *testing.T, jobs map[string]any, name string) (gitlabJob, bool) {
	t.Helper()
	raw, ok := jobs[name].(map[string]any)
	if !ok {
		return gitlabJob{}, false // variables: and stages: are not jobs
	}
	var job gitlabJob
	if base, ok := raw["extends"].(string); ok {
		job, _ = gitlabJobNamed(t, jobs, base)
	}
	dt, err := yaml.Marshal(raw)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(dt, &job))
	return job, true
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(dt, v), path)
}

// archcWord finds archc run as a command in a shell line (not a path ending in /archc).
var archcWord = regexp.MustCompile(`(^|[\s;&|(])archc\s`)

// archcCommands are the archc command lines in a shell script, as arguments. Arguments that
// expand a variable become placeholder (an existing file, as --compare requires); a
// command ends at the first shell operator.
func archcCommands(t *testing.T, script, placeholder string) [][]string {
	t.Helper()
	var out [][]string
	for _, line := range strings.Split(strings.ReplaceAll(script, "\\\n", " "), "\n") {
		if !archcWord.MatchString(line) {
			continue
		}
		words, err := shlex.Split(line)
		require.NoError(t, err, line)
		i := slices.Index(words, "archc")
		if i < 0 { // the word is inside a quoted string ('<!-- archc plan -->')
			continue
		}
		var args []string
		for _, w := range words[i+1:] {
			if slices.Contains([]string{">", ">>", "<", "|", "||", "&&", ";", "2>", "2>&1", ")"}, w) {
				break
			}
			if strings.Contains(w, "$") {
				w = placeholder
			}
			args = append(args, w)
		}
		out = append(out, args)
	}
	return out
}

// parseArchc parses args as run does, without running the command.
func parseArchc(args []string) error {
	var c cli
	c.Stdout, c.Stderr = io.Discard, io.Discard
	parser, err := kong.New(&c, kong.Name("archc"), kong.Writers(io.Discard, io.Discard),
		kong.Exit(func(code int) { panic(kongExit{code}) }))
	if err != nil {
		return err
	}
	_, code, err := parse(parser, singleDashLong(args))
	if err == nil && code >= 0 {
		return &exitError{code: code, err: os.ErrInvalid} // --help: not a command that runs
	}
	if err == nil && c.Chdir != chdirArg(args) {
		return &exitError{code: exitUsage, err: os.ErrInvalid} // run refuses -C inside a flag cluster
	}
	return err
}

func containsSeq(args, seq []string) bool {
	for i := 0; i+len(seq) <= len(args); i++ {
		if slices.Equal(args[i:i+len(seq)], seq) {
			return true
		}
	}
	return false
}

// TestCIExamplesParseCheckCanFail: the checks above reject what archc would reject.
func TestCIExamplesParseCheckCanFail(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"plan", "--format", "markdwn"},
		{"plan", "--compre", "x.json"},
		{"build", "--locked"},
		{"plan", "--compare", "/nonexistent/base.json"},
		{"plan", "--help"},
	} {
		assert.Error(t, parseArchc(args), "%q", args)
	}
	assert.NoError(t, parseArchc([]string{"-C", "/tmp", "plan", "--locked", "--format", "markdown"}))
	got := archcCommands(t, "if [ -f x ]; then\n  archc -C \"$B/tree\" plan --locked \\\n    --format json > \"$B/base.json\"\nfi\ngo install github.com/archc-dev/archc/cmd/archc@latest\n", "P")
	assert.Equal(t, [][]string{{"-C", "P", "plan", "--locked", "--format", "json"}}, got)
}

// TestCIExampleFlow runs what the examples' plan job runs, on the compiler's test project:
// the base's plan as JSON, an edit, then the markdown comparison posted as the comment.
func TestCIExampleFlow(t *testing.T) {
	t.Parallel()
	specPath, cacheDir := planProject(t, true)
	base := filepath.Join(t.TempDir(), "base.json")
	code, out, errs := runArchc(planArgs(specPath, cacheDir, "--locked", "--format", "json")...)
	require.Equal(t, 0, code, errs)
	require.NoError(t, os.WriteFile(base, []byte(out), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(filepath.Dir(specPath), "base", "hello.go"), []byte("package main\n"), 0o644))

	code, md, errs := runArchc(planArgs(specPath, cacheDir, "--locked", "--compare", base, "--format", "markdown")...)
	require.Equal(t, 0, code, errs)
	assert.Contains(t, md, "**Compare: 0 to add, 0 to remove, 4 to rebuild, 0 to re-tag, 1 unchanged.**")
	assert.Contains(t, md, "| <code>base/linux/arm64</code> | rebuild | llb&#95;digest, contexts |")
	assert.Contains(t, md, "  class n1,n2 changed\n", "app and base highlighted")
	assert.Equal(t, 4, strings.Count(md, "<details>"), "details of the rebuilt builds only")
	assert.NotContains(t, md, "### Lock changes", "no pin moved")
	assert.NotContains(t, md+errs, "s3cr3t-pw")
	assert.NotContains(t, md, filepath.Dir(specPath), "no absolute paths")

	code, again, _ := runArchc(planArgs(specPath, cacheDir, "--locked", "--compare", base, "--format", "markdown")...)
	require.Equal(t, 0, code)
	assert.Equal(t, md, again, "same inputs, same comment")

	code, _, errs = runArchc(planArgs(specPath, cacheDir, "--compare", base, "--format", "dot")...)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errs, "text, json or markdown")
}
