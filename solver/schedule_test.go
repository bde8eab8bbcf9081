package solver

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/archc-dev/archc/spec"
)

// farmRig is a spec with fake nodes: "amd-1", "amd-2" (linux/amd64) and "arm"
// (linux/arm64), each a fakeDaemon sharing one solve function.
type farmRig struct {
	spec     *spec.Spec
	builders []*Builder
	daemons  map[string]*fakeDaemon
	pushed   [][]string // tags of each index archc pushed
	logs     []string
	mu       sync.Mutex
}

func newFarmRig(t *testing.T, mod func(*spec.Spec), solve func(ctx context.Context, node, comp string, plats []string) error) *farmRig {
	t.Helper()
	s := farmSpec(mod)
	r := &farmRig{spec: s, daemons: map[string]*fakeDaemon{}}
	for _, sb := range s.Builders {
		f := &fakeDaemon{node: sb.Name, farmSolve: solve}
		r.daemons[sb.Name] = f
		b := farmBuilder(s, sb.Name)
		b.Client = f
		r.builders = append(r.builders, b)
	}
	return r
}

// run runs one job per component of the spec (no dependencies), on the builders named
// (all when none is), with the affinity a.
func (r *farmRig) run(t *testing.T, ctx context.Context, a *Affinity, up ...string) (map[string]*Result, error) {
	t.Helper()
	var builders []*Builder
	for _, b := range r.builders {
		if len(up) == 0 || containsString(up, b.Name) {
			builders = append(builders, b)
		}
	}
	var jobs []*Job
	for _, c := range r.spec.Components {
		j := &Job{Component: c.Name, Output: spec.OutputRegistry, Tags: []string{"reg.test/" + c.Name + ":v1"}}
		for _, p := range c.Platforms {
			j.Builds = append(j.Builds, PlatformBuild{Platform: p})
		}
		jobs = append(jobs, j)
	}
	prog, err := NewProgress(ctx, io.Discard, "quiet")
	require.NoError(t, err)
	results, runErr := Run(ctx, Farm{Spec: r.spec, Builders: builders, Affinity: a}, jobs, RunOptions{
		Parallel: 16, Progress: prog,
		PushIndex: func(_ context.Context, tags []string, ms []ocispecs.Descriptor, _ map[string]string) (digest.Digest, error) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.pushed = append(r.pushed, tags)
			return digest.FromString(fmt.Sprint(ms)), nil
		},
		Logf: func(format string, args ...any) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.logs = append(r.logs, fmt.Sprintf(format, args...))
		},
	})
	require.NoError(t, prog.Close())
	out := map[string]*Result{}
	for i := range results {
		out[results[i].Component] = &results[i]
	}
	return out, runErr
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func amdComponents(names ...string) func(*spec.Spec) {
	return func(s *spec.Spec) {
		s.Components = nil
		for _, n := range names {
			s.Components = append(s.Components, spec.Component{Name: n, Platforms: []string{"linux/amd64"}})
		}
	}
}

// TestScheduleSpreadsWithinMaxParallel: 4 amd64 components on two amd64 nodes with
// max_parallel 1 each: both nodes build, never two at once on one node.
func TestScheduleSpreadsWithinMaxParallel(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	running, peak := map[string]int{}, map[string]int{}
	total := 0
	bothBusy := make(chan struct{})
	r := newFarmRig(t, func(s *spec.Spec) {
		amdComponents("a", "b", "c", "d")(s)
		s.Builders[0].MaxParallel, s.Builders[1].MaxParallel = 1, 1
	}, func(ctx context.Context, node, _ string, _ []string) error {
		mu.Lock()
		running[node]++
		total++
		peak[node] = max(peak[node], running[node])
		if total == 2 {
			close(bothBusy)
		}
		mu.Unlock()
		select { // hold the slot until both nodes are busy once, so the spread is observed
		case <-bothBusy:
		case <-time.After(10 * time.Second):
		}
		mu.Lock()
		running[node]--
		mu.Unlock()
		return nil
	})
	res, err := r.run(t, context.Background(), nil)
	require.NoError(t, err)
	on := map[string]int{}
	for _, c := range []string{"a", "b", "c", "d"} {
		require.Equal(t, StatusBuilt, res[c].Builds[0].Status, c)
		on[res[c].Builds[0].Builder]++
	}
	assert.Equal(t, 1, peak["amd-1"], "max_parallel 1 on amd-1")
	assert.Equal(t, 1, peak["amd-2"], "max_parallel 1 on amd-2")
	assert.Positive(t, on["amd-1"], "amd-1 built some: %v", on)
	assert.Positive(t, on["amd-2"], "amd-2 built some: %v", on)
	assert.Zero(t, on["arm"])
}

// TestScheduleAffinityAndPin: a build goes back to the node that built it last, though
// another is first in the spec; a pinned component stays on its builder; the affinity
// file records where each went, and a corrupt one is an empty memory.
func TestScheduleAffinityAndPin(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "archc", "affinity.json")
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte("{not json"), 0o644))
	r := newFarmRig(t, func(s *spec.Spec) {
		s.Files = []string{"/work/archbuild.hcl"}
		s.Components = []spec.Component{
			{Name: "app", Platforms: []string{"linux/amd64"}},
			{Name: "pinned", Platforms: []string{"linux/amd64"}, Builder: "amd-2"},
		}
	}, func(context.Context, string, string, []string) error { return nil })
	a := LoadAffinity(path, r.spec)
	assert.Empty(t, a.Last("app", "linux/amd64"), "a corrupt file is no memory")
	a.Record("app", "linux/amd64", "amd-2")
	a.Record("pinned", "linux/amd64", "amd-1") // the pin wins over the memory
	res, err := r.run(t, context.Background(), a)
	require.NoError(t, err)
	assert.Equal(t, "amd-2", res["app"].Builds[0].Builder, "back to the node that built it last")
	assert.Equal(t, "amd-2", res["pinned"].Builds[0].Builder, "pinned")
	require.NoError(t, a.Save())

	again := LoadAffinity(path, r.spec)
	assert.Equal(t, "amd-2", again.Last("app", "linux/amd64"))
	assert.Equal(t, "amd-2", again.Last("pinned", "linux/amd64"), "recorded where it went")
	other := LoadAffinity(path, &spec.Spec{Files: []string{"/elsewhere/archbuild.hcl"}})
	assert.Empty(t, other.Last("app", "linux/amd64"), "keyed by the spec file")
}

// TestScheduleDownNodeWorkGoesToOthers: with amd-1 down (not among the builders), its
// work goes to amd-2.
func TestScheduleDownNodeWorkGoesToOthers(t *testing.T) {
	t.Parallel()
	r := newFarmRig(t, amdComponents("a", "b"), func(context.Context, string, string, []string) error { return nil })
	res, err := r.run(t, context.Background(), nil, "amd-2", "arm")
	require.NoError(t, err)
	assert.Equal(t, "amd-2", res["a"].Builds[0].Builder)
	assert.Equal(t, "amd-2", res["b"].Builds[0].Builder)
}

var errLost = status.Error(codes.Unavailable, "error reading from server: EOF")

// TestScheduleConnectionLossReRuns: amd-1 goes away mid-solve; the build runs again on
// amd-2, the message names amd-1, and the result says so.
func TestScheduleConnectionLossReRuns(t *testing.T) {
	t.Parallel()
	r := newFarmRig(t, amdComponents("app"), func(_ context.Context, node, _ string, _ []string) error {
		if node == "amd-1" {
			return fmt.Errorf("solve: %w", errLost)
		}
		return nil
	})
	res, err := r.run(t, context.Background(), nil)
	require.NoError(t, err)
	b := res["app"].Builds[0]
	assert.Equal(t, StatusBuilt, b.Status)
	assert.Equal(t, "amd-2", b.Builder)
	assert.Equal(t, []string{"amd-1"}, b.Lost)
	require.Len(t, r.logs, 1)
	assert.Contains(t, r.logs[0], `builder "amd-1" went away: `)
	assert.Contains(t, r.logs[0], "re-running app (linux/amd64) on amd-2")
	assert.Equal(t, []string{"start app", "end app"}, r.daemons["amd-1"].events, "one solve on amd-1")
	assert.Equal(t, []string{"start app", "end app"}, r.daemons["amd-2"].events, "one on amd-2")
}

// TestScheduleRunFailureIsNotReRun: a failing RUN is the build's fault: no other node
// gets it.
func TestScheduleRunFailureIsNotReRun(t *testing.T) {
	t.Parallel()
	r := newFarmRig(t, amdComponents("app"), func(context.Context, string, string, []string) error { return errRUN })
	res, err := r.run(t, context.Background(), nil)
	require.Error(t, err)
	b := res["app"].Builds[0]
	assert.Equal(t, StatusFailed, b.Status)
	assert.Empty(t, b.Lost)
	assert.ErrorIs(t, b.Err, errRUN)
	starts := 0
	for _, d := range r.daemons {
		if d.seen("start app") >= 0 {
			starts++
		}
	}
	assert.Equal(t, 1, starts, "solved once")
	assert.Empty(t, r.logs)
}

// TestScheduleLossLimits: a required builder that goes away fails its builds; builds
// whose every node goes away stop after two re-runs or when no node is left.
func TestScheduleLossLimits(t *testing.T) {
	t.Parallel()
	lost := func(context.Context, string, string, []string) error { return errLost }
	t.Run("required", func(t *testing.T) {
		t.Parallel()
		r := newFarmRig(t, func(s *spec.Spec) { amdComponents("app")(s); s.Builders[0].Required = true }, lost)
		res, err := r.run(t, context.Background(), nil)
		require.Error(t, err)
		var le *LostError
		require.ErrorAs(t, res["app"].Err, &le)
		assert.Equal(t, "amd-1", le.Builder)
		assert.Contains(t, err.Error(), `builder "amd-1" went away`)
		assert.Contains(t, err.Error(), "required")
	})
	t.Run("no node left", func(t *testing.T) {
		t.Parallel()
		r := newFarmRig(t, amdComponents("app"), lost)
		res, err := r.run(t, context.Background(), nil)
		require.Error(t, err)
		assert.Equal(t, []string{"amd-1", "amd-2"}, res["app"].Builds[0].Lost)
		assert.Contains(t, err.Error(), "no builder left that can run it")
	})
	t.Run("two re-runs at most", func(t *testing.T) {
		t.Parallel()
		r := newFarmRig(t, func(s *spec.Spec) {
			amdComponents("app")(s)
			s.Builders = append(s.Builders, spec.Builder{Name: "amd-3", Address: "tcp://127.0.0.1:5", Platforms: []string{"linux/amd64"}},
				spec.Builder{Name: "amd-4", Address: "tcp://127.0.0.1:6", Platforms: []string{"linux/amd64"}})
		}, lost)
		res, err := r.run(t, context.Background(), nil)
		require.Error(t, err)
		assert.Len(t, res["app"].Builds[0].Lost, 3)
		assert.Contains(t, err.Error(), "already re-run 2 times")
		assert.Equal(t, -1, r.daemons["amd-4"].seen("start app"), "the fourth node is not tried")
	})
}

// TestSchedulePerPlatformResults: amd64 and arm64 on different nodes: each platform its
// row (builder, digest), and archc pushes the index; one platform failing fails that row
// and cancels the other.
func TestSchedulePerPlatformResults(t *testing.T) {
	t.Parallel()
	appOnly := func(s *spec.Spec) { s.Components = s.Components[:1] }
	r := newFarmRig(t, appOnly, func(context.Context, string, string, []string) error { return nil })
	res, err := r.run(t, context.Background(), nil, "amd-1", "arm")
	require.NoError(t, err)
	app := res["app"]
	require.Len(t, app.Builds, 2)
	assert.Equal(t, "linux/amd64", app.Builds[0].Platform)
	assert.Equal(t, "amd-1", app.Builds[0].Builder)
	assert.Equal(t, "arm", app.Builds[1].Builder)
	assert.Equal(t, digest.FromString("app linux/arm64").String(), app.Builds[1].Digest, "the platform's manifest")
	assert.NotEqual(t, app.Builds[0].Digest, app.Builds[1].Digest)
	assert.Equal(t, [][]string{{"reg.test/app:v1"}}, r.pushed, "archc pushed the index under the tag")
	assert.Equal(t, []string{"reg.test/app:v1"}, app.Tags)

	failing := newFarmRig(t, appOnly, func(ctx context.Context, node, _ string, _ []string) error {
		if node == "arm" {
			return errRUN
		}
		<-ctx.Done()
		return ctx.Err()
	})
	res, err = failing.run(t, context.Background(), nil, "amd-1", "arm")
	require.Error(t, err)
	app = res["app"]
	assert.Equal(t, StatusCancelled, app.Builds[0].Status, "amd64 cancelled by arm64's failure")
	assert.Equal(t, StatusFailed, app.Builds[1].Status)
	assert.ErrorIs(t, app.Err, errRUN, "the component's error is the failure, not the cancellation")
	assert.Empty(t, failing.pushed, "no index for a failed component")
}
