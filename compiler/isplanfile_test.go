package compiler

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestIsPlanFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, file, content string
		want                bool
	}{
		{"plan file", "build.plan", "{\n \"archc_plan_file\": \"archc-plan-file/1\",\n \"spec_files\": []}", true},
		{"plan file with json extension", "plan.json", `{"archc_plan_file":"archc-plan-file/1"}`, true},
		{"spec", "archbuild.hcl", `component "a" { context = "." }`, false},
		{"hcl extension wins", "odd.hcl", `{"archc_plan_file":"x"}`, false},
		{"other json", "plan.json", `{"format_version":"1"}`, false},
		{"missing", "nope.plan", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, tc.name+"-"+tc.file)
			if tc.content != "" {
				require.NoError(t, os.WriteFile(p, []byte(tc.content), 0o644))
			}
			assert.Equal(t, tc.want, IsPlanFile(p))
		})
	}
}
