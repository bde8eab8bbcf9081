package e2e

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// noopComponents × benchPlatforms is bench-noop's project size (issue 15: 200 × 2).
const noopComponents = 200

// TestBenchNoop is `make bench-noop`: a no-op apply of a 200 × 2 project after one real
// apply (goal: under a second), the requests it makes to the push registry (counted at
// a fault proxy in front of it) and its ratio to the same apply with --force, in the same
// process. It runs only with ARCHC_BENCH=1.
func TestBenchNoop(t *testing.T) {
	if os.Getenv("ARCHC_BENCH") != "1" {
		t.Skip("set ARCHC_BENCH=1 (make bench-noop)")
	}
	e := setup(t)
	front := testenv.StartFaultProxy(t, e.push.URL)
	dir := noopProject(t, e, front.Host)
	r := e.run(t, dir, "apply", "--progress=quiet")
	require.Equal(t, 0, r.code, r.stderr)

	planFile := filepath.Join(t.TempDir(), "plan.json")
	r = e.run(t, dir, "plan", "-o", planFile)
	require.Equal(t, 0, r.code, r.stderr)

	rounds := 3
	var noop, noopFile, force []time.Duration
	var requests []int
	var methods string
	for i := 0; i < rounds; i++ {
		front.ResetLog()
		r := e.run(t, dir, "apply", "--progress=quiet")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, fmt.Sprintf("%d up to date", noopComponents*len(benchPlatforms)))
		noop = append(noop, r.took)
		reqs := front.Requests()
		requests = append(requests, len(reqs))
		methods = requestMethods(reqs)
		t.Logf("no-op phases:\n%s", grepLines(r.stderr, "timing:"))

		r = e.run(t, dir, "apply", planFile, "--progress=quiet")
		require.Equal(t, 0, r.code, r.stderr)
		require.Contains(t, r.stdout, fmt.Sprintf("%d up to date", noopComponents*len(benchPlatforms)))
		noopFile = append(noopFile, r.took)

		r = e.run(t, dir, "apply", "--progress=quiet", "--force")
		require.Equal(t, 0, r.code, r.stderr)
		force = append(force, r.took)
	}
	n, f := median(noop), median(force)
	var b strings.Builder
	fmt.Fprintf(&b, "bench-noop: %d components × %d platforms (COPY only), after one real apply, median of %d\n", noopComponents, len(benchPlatforms), rounds)
	fmt.Fprintf(&b, "no-op apply     %s  (push registry requests per run: %v; %s)\n", n.Round(time.Millisecond), requests, methods)
	fmt.Fprintf(&b, "no-op apply FILE %s  (a plan saved with plan -o: recompiled and compared first)\n", median(noopFile).Round(time.Millisecond))
	fmt.Fprintf(&b, "apply --force   %s\n", f.Round(time.Millisecond))
	fmt.Fprintf(&b, "ratio           %.3f (no-op / --force)\n", n.Seconds()/f.Seconds())
	fmt.Fprintf(&b, "goal: no-op apply under 1s\n")
	t.Log("\n" + b.String())
	if out := os.Getenv("ARCHC_BENCH_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(b.String()), 0o644))
	}
}

// noopProject writes noopComponents independent components, each a COPY of its own small
// context onto busybox, tagged in the registry at push.
func noopProject(t *testing.T, e *env, push string) string {
	t.Helper()
	dir := t.TempDir()
	var spec strings.Builder
	fmt.Fprintf(&spec, "platforms = [%q, %q]\nregistry \"docker.io\" { mirrors = [%q] }\nregistry %q { http = true }\n",
		benchPlatforms[0], benchPlatforms[1], e.mirror.URL, push)
	files := map[string]string{}
	for i := 0; i < noopComponents; i++ {
		name := fmt.Sprintf("c%03d", i)
		fmt.Fprintf(&spec, "component %q {\n  context = \"./%s\"\n  tags = [\"%s/noop/%s:v1\"]\n}\n", name, name, push, name)
		files[name+"/Dockerfile"] = "FROM busybox\nCOPY . /src/\n"
		files[name+"/id.txt"] = name + "\n"
	}
	files["archbuild.hcl"] = spec.String()
	write(t, dir, files)
	require.FileExists(t, filepath.Join(dir, "c000", "Dockerfile"))
	return dir
}

// requestMethods sums up a request log by method ("200 HEAD").
func requestMethods(reqs []testenv.ProxyRequest) string {
	by := map[string]int{}
	for _, r := range reqs {
		by[r.Method]++
	}
	var parts []string
	for _, m := range slices.Sorted(maps.Keys(by)) {
		parts = append(parts, fmt.Sprintf("%d %s", by[m], m))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
