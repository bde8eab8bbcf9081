package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/archc-dev/archc/internal/testenv"
)

// benchComponents × benchPlatforms is the bench spec's size.
const benchComponents = 10

var benchPlatforms = []string{"linux/amd64", "linux/arm64"}

// benchSetup is the start of a benchmark against buildctl: it runs only with
// ARCHC_BENCH=1 (make TARGET sets it) and needs bin/buildctl, built from the pinned
// buildkit module; it returns the environment and buildctl's path.
func benchSetup(t *testing.T, target string) (*env, string) {
	if os.Getenv("ARCHC_BENCH") != "1" {
		t.Skip("set ARCHC_BENCH=1 (make " + target + ")")
	}
	e := setup(t)
	buildctl := filepath.Join(filepath.Dir(e.bin), "buildctl")
	if _, err := os.Stat(buildctl); err != nil {
		testenv.Missing(t, "bin/buildctl: %v (go build -o bin/buildctl github.com/moby/buildkit/cmd/buildctl)", err)
	}
	return e, buildctl
}

// TestBenchApply is `make bench-apply`: the same multi-component spec built by `archc
// apply` and by `buildctl build` (dockerfile frontend, the same daemon, the same cache
// state: pruned for cold runs, warm after a build), with the ratios. It runs only with
// ARCHC_BENCH=1 and needs bin/buildctl built from the pinned buildkit module.
func TestBenchApply(t *testing.T) {
	e, buildctl := benchSetup(t, "bench-apply")
	dir := benchProject(t, e)
	addr := "unix://" + filepath.Join(e.state, "archc", "builders", "local", "buildkitd.sock")
	r := e.run(t, dir, "builder", "up")
	require.Equal(t, 0, r.code, r.stderr)

	archc := func() time.Duration {
		r := e.run(t, dir, "apply", "--progress=quiet")
		t.Logf("archc phases:\n%s", grepLines(r.stderr, "timing:"))
		require.Equal(t, 0, r.code, r.stderr)
		return r.took
	}
	bctl := func() time.Duration { return buildctlAll(t, buildctl, addr, dir, e.push.Host) }
	prune := func() {
		out, err := exec.Command(buildctl, "--addr", addr, "prune", "--all").CombinedOutput()
		require.NoError(t, err, string(out))
	}

	// Warm archc's own lock and content cache first: the bench measures builds, not pinning.
	r = e.run(t, dir, "plan")
	require.Equal(t, 0, r.code, r.stderr)

	type row struct{ name, archc, buildctl string }
	var rows []row
	rounds := 2
	if os.Getenv("ARCHC_BENCH_ROUNDS") == "1" {
		rounds = 1
	}
	for round := 1; round <= rounds; round++ {
		prune()
		ac := archc()
		aw := archc()
		prune()
		bc := bctl()
		bw := bctl()
		rows = append(rows,
			row{fmt.Sprintf("cold #%d", round), ac.Round(time.Millisecond).String(), fmt.Sprintf("%s (archc/buildctl %.2f)", bc.Round(time.Millisecond), ac.Seconds()/bc.Seconds())},
			row{fmt.Sprintf("warm #%d", round), aw.Round(time.Millisecond).String(), fmt.Sprintf("%s (archc/buildctl %.2f)", bw.Round(time.Millisecond), aw.Seconds()/bw.Seconds())})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "bench-apply: %d components × %d platforms, parallel 8, one buildkitd\n", benchComponents, len(benchPlatforms))
	fmt.Fprintf(&b, "%-8s  %-10s  %s\n", "run", "archc", "buildctl")
	for _, r := range rows {
		fmt.Fprintf(&b, "%-8s  %-10s  %s\n", r.name, r.archc, r.buildctl)
	}
	fmt.Fprintf(&b, "target: cold within 10%% of buildctl; warm no-op apply under 3s\n")
	t.Log("\n" + b.String())
	if out := os.Getenv("ARCHC_BENCH_OUT"); out != "" {
		require.NoError(t, os.WriteFile(out, []byte(b.String()), 0o644))
	}
}

// benchProject writes benchComponents independent components, each a RUN per platform and
// a COPY of its context.
func benchProject(t *testing.T, e *env) string {
	t.Helper()
	dir := t.TempDir()
	var spec strings.Builder
	fmt.Fprintf(&spec, "platforms = [%q, %q]\nregistry \"docker.io\" { mirrors = [%q] }\nregistry %q { http = true }\n",
		benchPlatforms[0], benchPlatforms[1], e.mirror.URL, e.push.Host)
	files := map[string]string{}
	for i := 0; i < benchComponents; i++ {
		name := fmt.Sprintf("c%02d", i)
		fmt.Fprintf(&spec, "component %q {\n  context = \"./%s\"\n  tags = [\"%s/bench/archc-%s:v1\"]\n}\n", name, name, e.push.Host, name)
		files[name+"/Dockerfile"] = fmt.Sprintf("FROM busybox\nRUN for i in $(seq 1 200); do echo %s $i; done > /work.txt && uname -m >> /work.txt\nCOPY . /src/\n", name)
		files[name+"/data.txt"] = strings.Repeat(name+"\n", 1000)
	}
	files["archbuild.hcl"] = spec.String()
	write(t, dir, files)
	return dir
}

// buildctlAll builds every bench component with buildctl and the dockerfile frontend,
// eight at a time (archc's default --parallel), and returns the wall time.
func buildctlAll(t *testing.T, buildctl, addr, dir, push string) time.Duration {
	t.Helper()
	start := time.Now()
	var eg errgroup.Group
	eg.SetLimit(8)
	for i := 0; i < benchComponents; i++ {
		name := fmt.Sprintf("c%02d", i)
		eg.Go(func() error {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			ctxDir := filepath.Join(dir, name)
			cmd := exec.CommandContext(ctx, buildctl, "--addr", addr, "build", "--progress=quiet",
				"--frontend", "dockerfile.v0", "--local", "context="+ctxDir, "--local", "dockerfile="+ctxDir,
				"--opt", "platform="+strings.Join(benchPlatforms, ","),
				"--output", fmt.Sprintf("type=image,name=%s/bench/buildctl-%s:v1,push=true,registry.insecure=true", push, name))
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("buildctl %s: %v\n%s", name, err, out.String())
			}
			return nil
		})
	}
	require.NoError(t, eg.Wait())
	return time.Since(start)
}

func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
