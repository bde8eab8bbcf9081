package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder stands in for a test to observe whether Require skips or fails.
type recorder struct {
	testing.TB
	skipped, failed string
}

func (r *recorder) Helper()                      {}
func (r *recorder) Skipf(f string, args ...any)  { r.skipped = fmt.Sprintf(f, args...) }
func (r *recorder) Fatalf(f string, args ...any) { r.failed = fmt.Sprintf(f, args...) }

func TestRequireSkipsOrFailsByCI(t *testing.T) {
	bin := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bin, "archc"), []byte("#!/bin/sh\n"), 0o755))
	tests := []struct {
		name, ci, binDir, part string
		wantPath               string
		wantSkip, wantFail     string // substrings; "" means it must not happen
	}{
		{name: "present", ci: "true", binDir: bin, part: PartArchc, wantPath: filepath.Join(bin, "archc")},
		{name: "missing locally skips", ci: "", binDir: bin, part: PartBuildkitd, wantSkip: "buildkitd"},
		{name: "missing in CI fails", ci: "true", binDir: bin, part: PartBuildkitd, wantFail: "CI=true"},
		{name: "unset bin dir", ci: "", binDir: "", part: PartArchc, wantSkip: "ARCHC_BIN_DIR is not set"},
		{name: "relative bin dir", ci: "true", binDir: "bin", part: PartArchc, wantFail: "absolute"},
		{name: "unknown part", ci: "", binDir: bin, part: "nope", wantSkip: `unknown part "nope"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("CI", tc.ci)
			t.Setenv("ARCHC_BIN_DIR", tc.binDir)
			r := &recorder{TB: t}
			got := Require(r, tc.part)
			if tc.wantSkip == "" {
				assert.Empty(t, r.skipped)
			} else {
				assert.Contains(t, r.skipped, tc.wantSkip)
			}
			if tc.wantFail == "" {
				assert.Empty(t, r.failed)
			} else {
				assert.Contains(t, r.failed, tc.wantFail)
			}
			if tc.wantPath != "" {
				assert.Equal(t, tc.wantPath, got)
			}
		})
	}
}

func TestInstalledParts(t *testing.T) {
	t.Parallel()
	// On a machine after `make setup` these are all present; in CI their absence fails here.
	for _, part := range []string{PartRegistry, PartTinyproxy, PartRunc, PartBusyboxAMD64, PartBusyboxARM64, PartQemuARM64} {
		Require(t, part)
	}
}
