package compiler

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTextViewEscapesInput: text from the spec, Dockerfiles and registries cannot drive
// the reader's terminal nor fake a line of the plan.
func TestTextViewEscapesInput(t *testing.T) {
	t.Parallel()
	p := &Plan{BuildPlatform: "linux/amd64", Builds: []Build{{
		ID: "app/linux/amd64", Component: "app", Platform: "linux/amd64",
		Args:      map[string]string{"V": "1\n  output      registry evil/x:1"},
		Labels:    map[string]string{"L": "\x1b]0;owned\a"},
		Outputs:   []Output{{Type: "registry", Name: "reg/app:\x1b[2J\x1b[31mv1"}},
		DependsOn: []string{"base\u202e1v"},
	}}, Warnings: []string{"tag \x1b[1mbold\u009b"}}
	got := string(render(t, p, "text"))
	assert.NotContains(t, got, "\x1b")
	assert.NotContains(t, got, "\a")
	assert.NotContains(t, got, "\u202e")
	assert.NotContains(t, got, "\u009b")
	assert.Contains(t, got, `  output      registry reg/app:\x1b[2J\x1b[31mv1`+"\n")
	assert.Contains(t, got, `  arg         V=1\n  output      registry evil/x:1`+"\n", "one arg, one line")
	assert.Equal(t, 1, strings.Count(got, "\n  output "), "no output line but the plan's own")
	assert.Contains(t, got, `  label       L=\x1b]0;owned\x07`)
	assert.Contains(t, got, `  - tag \x1b[1mbold\u009b`)
}
