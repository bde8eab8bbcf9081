package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// farmBenchComponents × 2 platforms is the bench-farm workload: each build is one RUN that
// waits (sleep 2), so the nodes' slots, not this machine's 2 cores, set the pace.
const farmBenchComponents = 20

// TestBenchFarm is `make bench-farm`: the same spec applied on one node per platform
// (amd-1, arm-1) and on two per platform (amd-1, amd-2, arm-1, arm-2), every node at the
// default max_parallel, cold each time (new buildkitd roots), alternating layouts; it
// prints the wall times and the ratio two-per-platform ÷ one-per-platform (goal ≤ 0.6).
// It runs only with ARCHC_BENCH=1; ARCHC_BENCH_ROUNDS sets the rounds (default 2).
func TestBenchFarm(t *testing.T) {
	if os.Getenv("ARCHC_BENCH") != "1" {
		t.Skip("set ARCHC_BENCH=1 (make bench-farm)")
	}
	e := setup(t)
	rounds := 2
	if n, err := fmt.Sscanf(os.Getenv("ARCHC_BENCH_ROUNDS"), "%d", &rounds); n != 1 || err != nil || rounds < 1 {
		rounds = 2
	}
	layouts := []struct {
		name  string
		nodes []string
	}{
		{"one per platform", []string{"amd-1", "arm-1"}},
		{"two per platform", []string{"amd-1", "amd-2", "arm-1", "arm-2"}},
	}
	// Pin busybox once: the bench measures builds, not resolution.
	lockDir := farmBenchProject(t, e, nil, "bench-farm-lock")
	r := e.run(t, lockDir, "lock")
	require.Equal(t, 0, r.code, r.stderr)
	lock, err := os.ReadFile(filepath.Join(lockDir, "archbuild.lock.hcl"))
	require.NoError(t, err)

	took := make([][]time.Duration, len(layouts))
	for round := 1; round <= rounds; round++ {
		for i, l := range layouts {
			d := farmBenchRun(t, e, l.nodes, fmt.Sprintf("bench-farm-%d-%d", round, i), lock)
			took[i] = append(took[i], d)
			progress("bench-farm round %d, %s: %s", round, l.name, d.Round(10*time.Millisecond))
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "bench-farm: %d components × 2 platforms, each RUN sleep 2; cold nodes (new roots) each run; max_parallel 4 per node\n", farmBenchComponents)
	for i, l := range layouts {
		fmt.Fprintf(&b, "%-17s %s (median %s)\n", l.name+":", durations(took[i]), median(took[i]).Round(10*time.Millisecond))
	}
	ratio := median(took[1]).Seconds() / median(took[0]).Seconds()
	fmt.Fprintf(&b, "ratio two-per-platform ÷ one-per-platform (medians): %.2f (goal ≤ 0.60)\n", ratio)
	t.Log("\n" + b.String())
	if out := os.Getenv("ARCHC_BENCH_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(b.String()), 0o644))
	}
}

// farmBenchRun starts fresh nodes, applies the workload on them and returns apply's wall
// time; the nodes stop when it returns.
func farmBenchRun(t *testing.T, e *env, names []string, repo string, lock []byte) time.Duration {
	var d time.Duration
	t.Run(repo, func(t *testing.T) {
		bin := filepath.Join(filepath.Dir(e.bin), "buildkitd")
		var nodes []*farmNode
		for _, n := range names {
			plat := "linux/amd64"
			if strings.HasPrefix(n, "arm") {
				plat = "linux/arm64"
			}
			nodes = append(nodes, newFarmNode(t, bin, n, e.push.Host, []string{plat}, nil))
		}
		startNodes(t, nodes)
		dir := farmBenchProject(t, e, nodes, repo)
		write(t, dir, map[string]string{"archbuild.lock.hcl": string(lock)})
		r := e.run(t, dir, "apply", "--progress=quiet", "--parallel", fmt.Sprint(farmBenchComponents))
		require.Equal(t, 0, r.code, r.stderr)
		d = r.took
	})
	return d
}

// farmBenchProject writes the workload for nodes, tagged under repo.
func farmBenchProject(t *testing.T, e *env, nodes []*farmNode, repo string) string {
	t.Helper()
	var names []string
	for i := 0; i < farmBenchComponents; i++ {
		names = append(names, fmt.Sprintf("c%02d", i))
	}
	files := farmComponents(e.push.Host, repo, names, `["linux/amd64", "linux/arm64"]`, "sleep 2")
	files["archbuild.hcl"] = farmBuilders(e, nodes, farmSpec{}) + files["components.hcl"]
	delete(files, "components.hcl")
	dir := t.TempDir()
	write(t, dir, files)
	return dir
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func durations(ds []time.Duration) string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Round(10*time.Millisecond).String())
	}
	return strings.Join(out, ", ")
}
