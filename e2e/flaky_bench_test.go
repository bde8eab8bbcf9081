package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// benchBuildctlTimeout bounds one buildctl build: BuildKit waits minutes on a mirror that
// never answers, and the baseline only needs to show that it did not get through.
const benchBuildctlTimeout = 2 * time.Minute

// flakyTally is K cold runs of one tool under one fault kind.
type flakyTally struct {
	runs, runsOK     int
	comps, compsOK   int
	upstream         int             // requests the mirrors_only upstream saw, all runs
	took             []time.Duration // wall time of the runs that pushed every component
	firstErr         string          // first line of the first failure, for the table's notes
	faulted, retried int             // at the injector, all runs
}

func (s *flakyTally) median() time.Duration {
	if len(s.took) == 0 {
		return 0
	}
	d := slices.Clone(s.took)
	slices.Sort(d)
	return d[len(d)/2]
}

// TestBenchFlaky is `make bench-flaky`: for the healthy mirror and each of issue 9's fault
// kinds, K cold `archc apply` runs of the fault workload over different seeds (half with a
// lock), then the same workload with plain `buildctl build` (dockerfile frontend) on a cold
// buildkitd whose buildkitd.toml archc renders from the same spec (so the daemon uses the
// same faulty mirror), under the same faults. It prints success rates, archc's median time
// ÷ its healthy median, and buildctl's success rate as the baseline. It runs only with
// ARCHC_BENCH=1 and needs bin/buildctl; ARCHC_BENCH_K sets K (default 5), ARCHC_FAULT_SEED
// the seeds.
func TestBenchFlaky(t *testing.T) {
	e, buildctl := benchSetup(t, "bench-flaky")
	k := 5
	if s := os.Getenv("ARCHC_BENCH_K"); s != "" {
		n, err := strconv.Atoi(s)
		require.NoError(t, err, "ARCHC_BENCH_K")
		require.Positive(t, n, "ARCHC_BENCH_K")
		k = n
	}
	g := newFlakyRig(t, e)
	base := faultSeed(t)
	kinds := append([]flakyKind{{name: "healthy"}}, flakyKinds...)
	archcTally := make([]flakyTally, len(kinds))
	bctlTally := make([]flakyTally, len(kinds))
	for i, kind := range kinds {
		for j := range k {
			seed := runSeed(base, i, j)
			t.Run(fmt.Sprintf("%s/archc/%d", kind.name, j), func(t *testing.T) {
				benchArchc(t, g, kind, seed, j%2 == 1, fmt.Sprintf("bench/a%d%d", i, j), &archcTally[i])
			})
			t.Run(fmt.Sprintf("%s/buildctl/%d", kind.name, j), func(t *testing.T) {
				benchBuildctl(t, g, buildctl, kind, seed, fmt.Sprintf("bench/b%d%d", i, j), &bctlTally[i])
			})
			progress("bench-flaky: %-26s run %d/%d: archc %d/%d runs ok, buildctl %d/%d components ok",
				kind.name, j+1, k, archcTally[i].runsOK, archcTally[i].runs, bctlTally[i].compsOK, bctlTally[i].comps)
		}
	}
	report := flakyReport(kinds, archcTally, bctlTally, k, base)
	t.Log("\n" + report)
	fmt.Print(report)
	if out := os.Getenv("ARCHC_BENCH_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(report), 0o644))
	}
}

// progress prints a line as the bench goes (go test shows t.Log only at the end).
func progress(format string, args ...any) { fmt.Fprintf(os.Stderr, format+"\n", args...) }

func benchArchc(t *testing.T, g *flakyRig, kind flakyKind, seed int64, locked bool, repo string, tally *flakyTally) {
	defer g.clear()
	run := g.start(t, kind, seed, locked, repo)
	res := run.apply(t)
	st := run.mirror
	if kind.push != nil {
		st = run.push
	}
	tally.faulted += st.Faulted
	tally.retried += st.Retried
	tally.upstream += run.upstream
	g.clear()
	pushed := g.pushed(t, repo)
	tally.runs++
	tally.comps += flakyComponents
	tally.compsOK += pushed
	if res.code == 0 && pushed == flakyComponents {
		tally.runsOK++
		tally.took = append(tally.took, res.took)
	} else if tally.firstErr == "" {
		tally.firstErr = firstErrorLine(res.stderr)
	}
}

// benchBuildctl builds every component with buildctl on a cold builder that archc starts
// with the spec's buildkitd.toml; the faults are set once the builder is up.
func benchBuildctl(t *testing.T, g *flakyRig, buildctl string, kind flakyKind, seed int64, repo string, tally *flakyTally) {
	defer g.clear()
	run := g.start(t, kind, seed, false, repo)
	g.clear()
	up := run.env.run(t, run.dir, "builder", "up")
	require.Equal(t, 0, up.code, up.stderr)
	addr := "unix://" + filepath.Join(run.env.state, "archc", "builders", "local", "buildkitd.sock")
	g.setFaults(kind, seed)

	start := time.Now()
	errs := make([]string, flakyComponents)
	var wg sync.WaitGroup
	for i := range flakyComponents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = buildctlOne(buildctl, addr, run.dir, g.push.Host, repo, fmt.Sprintf("c%d", i))
		}()
	}
	wg.Wait()
	took := time.Since(start)
	st := g.mirror.Stats()
	if kind.push != nil {
		st = g.push.Stats()
	}
	tally.faulted += st.Faulted
	tally.retried += st.Retried
	tally.upstream += g.upstream.Count("")
	g.clear()
	pushed := g.pushed(t, repo)
	tally.runs++
	tally.comps += flakyComponents
	tally.compsOK += pushed
	if pushed == flakyComponents {
		tally.runsOK++
		tally.took = append(tally.took, took)
	}
	for _, e := range errs {
		if e != "" && tally.firstErr == "" {
			tally.firstErr = e
		}
	}
	t.Logf("buildctl under %q: %d/%d components pushed in %s; errors: %q", kind.name, pushed, flakyComponents, took.Round(time.Millisecond), errs)
}

// buildctlOne builds one component for both platforms and pushes it; "" on success, else
// the first error line.
func buildctlOne(buildctl, addr, dir, push, repo, c string) string {
	ctx, cancel := context.WithTimeout(context.Background(), benchBuildctlTimeout)
	defer cancel()
	ctxDir := filepath.Join(dir, c)
	cmd := exec.CommandContext(ctx, buildctl, "--addr", addr, "build", "--progress=plain",
		"--frontend", "dockerfile.v0", "--local", "context="+ctxDir, "--local", "dockerfile="+ctxDir,
		"--opt", "platform="+strings.Join(flakyPlatforms, ","),
		"--output", fmt.Sprintf("type=image,name=%s/%s/%s:v1,push=true,registry.insecure=true", push, repo, c))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Sprintf("timed out after %s", benchBuildctlTimeout)
		}
		return firstErrorLine(out.String())
	}
	return ""
}

// firstErrorLine is the first line that looks like an error, shortened for the table.
func firstErrorLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "archc:") || strings.HasPrefix(l, "error:") || strings.Contains(l, "ERROR") {
			if len(l) > 160 {
				l = l[:160] + "…"
			}
			return l
		}
	}
	return tail(s, 1)
}

func flakyReport(kinds []flakyKind, a, b []flakyTally, k int, seed int64) string {
	var w strings.Builder
	fmt.Fprintf(&w, "bench-flaky: %d components × %d platforms, %d cold runs per fault kind and tool (seed %d; half of archc's with a lock)\n",
		flakyComponents, len(flakyPlatforms), k, seed)
	fmt.Fprintf(&w, "%-26s | %-8s %-7s %-8s %-9s %-8s %-8s | %-8s %-7s %-8s %-8s\n", "fault", "archc ok", "comps", "median", "÷healthy", "upstream", "retried",
		"bctl ok", "comps", "median", "upstream")
	healthy := a[0].median()
	for i, kind := range kinds {
		ratio := "-"
		if m := a[i].median(); m > 0 && healthy > 0 {
			ratio = fmt.Sprintf("%.2f", m.Seconds()/healthy.Seconds())
		}
		fmt.Fprintf(&w, "%-26s | %-8s %-7s %-8s %-9s %-8d %-8s | %-8s %-7s %-8s %-8d\n", kind.name,
			fmt.Sprintf("%d/%d", a[i].runsOK, a[i].runs), fmt.Sprintf("%d/%d", a[i].compsOK, a[i].comps), medianString(a[i]), ratio,
			a[i].upstream, fmt.Sprintf("%d/%d", a[i].retried, a[i].faulted),
			fmt.Sprintf("%d/%d", b[i].runsOK, b[i].runs), fmt.Sprintf("%d/%d", b[i].compsOK, b[i].comps), medianString(b[i]), b[i].upstream)
	}
	fmt.Fprintf(&w, "ok: runs that pushed every component; comps: components pushed; median: of the ok runs; ÷healthy: archc's median over its healthy median;\n")
	fmt.Fprintf(&w, "upstream: requests to the mirrors_only upstream; retried: faulted requests whose path was later answered / faulted requests.\n")
	fmt.Fprintf(&w, "target (issue 9): archc 100%% ok under every fault, ÷healthy ≤ 2 at 20%% faults, 0 upstream requests.\n")
	for i, kind := range kinds {
		for _, x := range []struct {
			tool string
			t    flakyTally
		}{{"archc", a[i]}, {"buildctl", b[i]}} {
			if x.t.firstErr != "" {
				fmt.Fprintf(&w, "  %s, %s: %s\n", kind.name, x.tool, x.t.firstErr)
			}
		}
	}
	return w.String()
}

func medianString(s flakyTally) string {
	if m := s.median(); m > 0 {
		return m.Round(100 * time.Millisecond).String()
	}
	return "-"
}
