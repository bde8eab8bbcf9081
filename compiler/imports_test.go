package compiler

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestImportRules enforces DESIGN.md's arrows: spec and compiler never reach buildkitd's
// client or archc's solver (directly or through a dependency); spec knows no LLB either,
// and registry neither LLB nor Dockerfiles.
func TestImportRules(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go tool not on PATH")
	}
	// "x/..." forbids x and everything under it; a plain path forbids that package only
	// (buildkit's client/llb is fine for the compiler, its client package is not).
	forbiddenBoth := []string{"github.com/moby/buildkit/client", "github.com/archc-dev/archc/solver/..."}
	for _, tc := range []struct {
		pkg       string
		forbidden []string
	}{
		{"github.com/archc-dev/archc/compiler", forbiddenBoth},
		{"github.com/archc-dev/archc/spec", append([]string{
			"github.com/archc-dev/archc/compiler/...", "github.com/archc-dev/archc/registry/...",
			"github.com/moby/buildkit/client/llb/...",
		}, forbiddenBoth...)},
		// The compiler is the one reader of Dockerfiles; registry knows no LLB.
		{"github.com/archc-dev/archc/registry", append([]string{
			"github.com/archc-dev/archc/compiler/...",
			"github.com/moby/buildkit/client/llb/...", "github.com/moby/buildkit/frontend/dockerfile/...",
		}, forbiddenBoth...)},
		// doctor predicts apply by calling solver; solver never calls back.
		{"github.com/archc-dev/archc/solver", []string{"github.com/archc-dev/archc/doctor/...", "github.com/archc-dev/archc/cmd/..."}},
	} {
		t.Run(tc.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-e", "-deps", "-f", "{{.ImportPath}}", tc.pkg).Output()
			require.NoError(t, err)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, tc.pkg)
			for _, d := range deps {
				for _, f := range tc.forbidden {
					assert.False(t, importMatches(d, f), "%s imports %s (directly or through a dependency): forbidden by DESIGN.md", tc.pkg, d)
				}
			}
		})
	}
}

func importMatches(pkg, rule string) bool {
	if tree, ok := strings.CutSuffix(rule, "/..."); ok {
		return pkg == tree || strings.HasPrefix(pkg, tree+"/")
	}
	return pkg == rule
}

func TestImportMatches(t *testing.T) {
	t.Parallel()
	assert.True(t, importMatches("github.com/moby/buildkit/client", "github.com/moby/buildkit/client"))
	assert.False(t, importMatches("github.com/moby/buildkit/client/llb", "github.com/moby/buildkit/client"))
	assert.True(t, importMatches("github.com/archc-dev/archc/solver/x", "github.com/archc-dev/archc/solver/..."))
	assert.False(t, importMatches("github.com/archc-dev/archc/solverx", "github.com/archc-dev/archc/solver/..."))
}
