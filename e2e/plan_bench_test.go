package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler/compilertest"
	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// BenchmarkPlanCLI runs the real `bin/archc plan --format json` on generated specs of 20 and
// 200 components × 2 platforms with a warm lock and cache (no network, no builder), and
// reports the 200-component run's wall time and peak memory (targets: under 2 s and 300 MB)
// and its cost per build against the 20-component run measured in the same process (target:
// flat, a ratio near 1).
//
//	go test ./e2e -run '^$' -bench PlanCLI -benchtime 3x
func BenchmarkPlanCLI(b *testing.B) {
	archc := filepath.Join(testenv.BinDir(b), "archc")
	small, large := planProject(b, 20), planProject(b, 200)
	var wall20, wall200 time.Duration
	var peak200 int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, _ := runPlan(b, archc, small)
		wall20 += w
		w, rss := runPlan(b, archc, large)
		wall200 += w
		peak200 = max(peak200, rss)
	}
	perBuild20 := float64(wall20) / float64(b.N*20*2)
	perBuild200 := float64(wall200) / float64(b.N*200*2)
	b.ReportMetric(float64(wall200.Milliseconds())/float64(b.N), "wall-ms-200x2")
	b.ReportMetric(float64(peak200)/1024, "peak-MB-200x2")
	b.ReportMetric(perBuild20/1e6, "ms/build-20")
	b.ReportMetric(perBuild200/1e6, "ms/build-200")
	b.ReportMetric(perBuild200/perBuild20, "per-build-ratio-200/20")
}

// planProject generates an n-component project with its lock written and its cache warm.
func planProject(b *testing.B, n int) string {
	b.Helper()
	dir := b.TempDir()
	require.NoError(b, compilertest.Generate(dir, n))
	s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	require.False(b, diags.HasErrors(), diags.Error())
	lock, err := compilertest.WarmLock(s, filepath.Join(dir, ".cache"), "linux/amd64")
	require.NoError(b, err)
	require.NoError(b, registry.WriteLock(filepath.Join(dir, registry.LockFileName), lock))
	return dir
}

// runPlan runs archc plan once and returns its wall time and peak resident memory (KiB).
func runPlan(b *testing.B, archc, dir string) (time.Duration, int64) {
	b.Helper()
	cmd := exec.Command(archc, "plan", filepath.Join(dir, "archbuild.hcl"), "--format", "json", "--locked",
		"--cache-dir", filepath.Join(dir, ".cache"), "--build-platform", "linux/amd64")
	cmd.Stdout, cmd.Stderr = nil, os.Stderr
	start := time.Now()
	require.NoError(b, cmd.Run(), fmt.Sprintf("archc plan %s", dir))
	wall := time.Since(start)
	return wall, cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
}
