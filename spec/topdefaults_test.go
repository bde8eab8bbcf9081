package spec

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestTopLevelDefaultsChecked pins that the top-level source_date_epoch, sbom_generator
// and attest block are checked once, whether or not a component takes them.
func TestTopLevelDefaultsChecked(t *testing.T) {
	// Not parallel: it replaces gitCommitTime.
	calls := 0
	gitCommitTime = func(string) (int64, error) {
		calls++
		return 0, errors.New("the spec's directory is not in a git repository")
	}
	t.Cleanup(func() { gitCommitTime = defaultGitCommitTime })
	tests := []struct {
		name string
		spec string
		want []string
		git  int // git calls expected
	}{
		{"no components", `source_date_epoch = "gti"
sbom_generator = 42
attest { provenance = 3 }
`, []string{
			`a.hcl:1:21: error: Invalid source_date_epoch`,
			`a.hcl:2:18: error: Invalid sbom_generator`,
			`a.hcl:3:23: error: Invalid provenance`,
		}, 0},
		{"every component sets its own epoch", `source_date_epoch = -1
component "a" {
  context = "ctx"
  source_date_epoch = 1
}
component "b" {
  context = "ctx"
  source_date_epoch = 2
}
`, []string{`a.hcl:1:21: error: Invalid source_date_epoch`}, 0},
		{"git read once, each use reported", `source_date_epoch = "git"
component "a" {
  context = "ctx"
  source_date_epoch = "git"
}
component "b" { context = "ctx" }
`, []string{
			`a.hcl:1:21: error: Cannot read the commit time`,
			`a.hcl:4:23: error: Cannot read the commit time`,
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls = 0
			_, diags := Load(LoadOptions{Files: attestDir(t, tt.spec)})
			assert.Equal(t, tt.want, diagStrings(diags))
			assert.Equal(t, tt.git, calls, "git calls")
		})
	}
}
