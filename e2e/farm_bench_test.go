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

	"github.com/archc-dev/archc/internal/testenv"
)

// farmBenchComponents × 2 platforms is the bench-farm workload: each build is one RUN that
// waits (sleep 2), so the nodes' slots, not this machine's 2 cores, set the pace.
const farmBenchComponents = 20

// farmBenchMaxParallel is every node's max_parallel. Not the default 4: 20 builds per
// platform on 4 slots or 8 take 5 or 3 rounds of sleep 2, so even a perfect scheduler
// would score 0.6; on 2 slots or 4 they take 10 or 5 rounds (0.5), and the ratio shows the
// spreading rather than the rounding.
const farmBenchMaxParallel = 2

// TestBenchFarm is `make bench-farm`: the same spec applied on one node per platform
// (amd-1, arm-1) and on two per platform (amd-1, amd-2, arm-1, arm-2), every node at
// max_parallel farmBenchMaxParallel, cold each time (new buildkitd roots), alternating layouts; it
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
			d, ok := farmBenchRun(t, e, l.nodes, fmt.Sprintf("bench-farm-%d-%d", round, i), lock)
			if !ok { // the failure is reported; a failed run has no time to count
				progress("bench-farm round %d, %s: failed", round, l.name)
				continue
			}
			took[i] = append(took[i], d)
			progress("bench-farm round %d, %s: %s", round, l.name, d.Round(10*time.Millisecond))
		}
	}
	require.NotEmpty(t, took[0], "no run of %s succeeded", layouts[0].name)
	require.NotEmpty(t, took[1], "no run of %s succeeded", layouts[1].name)
	var b strings.Builder
	fmt.Fprintf(&b, "bench-farm: %d components × 2 platforms, each RUN sleep 2; cold nodes (new roots) each run; max_parallel %d per node\n",
		farmBenchComponents, farmBenchMaxParallel)
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
// time and whether it succeeded; the nodes stop when it returns.
func farmBenchRun(t *testing.T, e *env, names []string, repo string, lock []byte) (time.Duration, bool) {
	var d time.Duration
	ok := t.Run(repo, func(t *testing.T) {
		bin := testenv.Require(t, testenv.PartBuildkitd)
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
	return d, ok
}

// farmBenchProject writes the workload for nodes, tagged under repo.
func farmBenchProject(t *testing.T, e *env, nodes []*farmNode, repo string) string {
	t.Helper()
	var names []string
	for i := 0; i < farmBenchComponents; i++ {
		names = append(names, fmt.Sprintf("c%02d", i))
	}
	files := farmComponents(e.push.Host, repo, names, `["linux/amd64", "linux/arm64"]`, "sleep 2")
	fs := farmSpec{maxParallel: map[string]int{}}
	for _, n := range nodes {
		fs.maxParallel[n.name] = farmBenchMaxParallel
	}
	files["archbuild.hcl"] = farmBuilders(e, nodes, fs) + files["components.hcl"]
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
