package compiler

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/compiler/golden")

const projectDir = "../testdata/compiler/project"

// golden compares got with testdata/compiler/golden/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("..", "testdata", "compiler", "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./compiler -update")
	assert.Equal(t, string(want), string(got), "golden %s differs; if intended, run go test ./compiler -update", name)
}

func render(t testing.TB, p *Plan, format string) []byte {
	t.Helper()
	v, err := NewView(format, nil)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, v.Plan(&buf, p))
	return buf.Bytes()
}

func TestGoldenViews(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	for _, tc := range []struct{ format, file string }{
		{"text", "plan.txt"},
		{"json", "plan.json"},
		{"dot", "plan.dot"},
	} {
		t.Run(tc.format, func(t *testing.T) {
			golden(t, tc.file, render(t, plan, tc.format))
		})
	}
}

func TestSameInputsSameBytes(t *testing.T) {
	t.Parallel()
	a := compileProject(t, projectDir)
	b := compileProject(t, projectDir)
	for _, f := range Formats {
		assert.Equal(t, string(render(t, a, f)), string(render(t, b, f)), f)
	}
	for i := range a.Builds {
		assert.Equal(t, a.Builds[i].Definition.Def, b.Builds[i].Definition.Def, a.Builds[i].ID)
	}
}

func TestNoSecretInAnyOutput(t *testing.T) {
	t.Parallel()
	plan := compileProject(t, projectDir)
	pf := filepath.Join(t.TempDir(), "plan.archc")
	require.NoError(t, NewPlanFile(plan, projectSpec(t, projectDir).Files).Save(pf))
	saved, err := os.ReadFile(pf)
	require.NoError(t, err)
	var diff bytes.Buffer
	require.NoError(t, textView{}.Diff(&diff, Compare(plan.JSON(nil), plan.JSON(nil))))
	outputs := map[string][]byte{"plan file": saved, "diff": diff.Bytes()}
	for _, f := range Formats {
		outputs[f] = render(t, plan, f)
	}
	for name, out := range outputs {
		assert.NotContains(t, string(out), "s3cr3t-pw", name)
		assert.NotContains(t, string(out), "alice", name)
	}
	assert.Contains(t, string(outputs["text"]), "http://xxxxx@127.0.0.1:7890", "the user name is masked too: it can be a token")
}

// TestDOTRenders checks that Graphviz accepts the DOT view.
func TestDOTRenders(t *testing.T) {
	t.Parallel()
	dot, err := exec.LookPath("dot")
	if err != nil {
		testenv.Missing(t, "graphviz `dot` is not on PATH (scripts/setup.sh installs graphviz)")
	}
	cmd := exec.Command(dot, "-Tsvg")
	cmd.Stdin = bytes.NewReader(render(t, compileProject(t, projectDir), "dot"))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, string(out), "<svg")
}
