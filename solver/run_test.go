package solver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// fakeDaemon stands in for buildkitd behind the Daemon seam. Each job pushes one tag
// named after its component ("c" or "reg.test/c:v1"), which tells the fake whose build it
// runs; solve decides the outcome (or farmSolve, which also hears the node's name and the
// platforms asked for).
type fakeDaemon struct {
	node      string
	solve     func(ctx context.Context, component string) error
	farmSolve func(ctx context.Context, node, component string, platforms []string) error

	mu     sync.Mutex
	events []string // "start X", "end X"
}

func (f *fakeDaemon) Build(ctx context.Context, opt client.SolveOpt, _ string, _ gateway.BuildFunc, statusChan chan *client.SolveStatus) (*client.SolveResponse, error) {
	defer close(statusChan) // as client.Build does
	name := fakeComponent(opt.Exports[0].Attrs["name"])
	plats := strings.Split(opt.FrontendAttrs["platform"], ",")
	f.record("start " + name)
	var err error
	if f.farmSolve != nil {
		err = f.farmSolve(ctx, f.node, name, plats)
	} else {
		err = f.solve(ctx, name)
	}
	f.record("end " + name)
	if err != nil {
		return nil, err
	}
	desc, _ := json.Marshal(ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageManifest, Digest: digest.FromString(name + " " + strings.Join(plats, ","))})
	return &client.SolveResponse{ExporterResponse: map[string]string{
		exptypes.ExporterImageDigestKey:     "sha256:" + name,
		exptypes.ExporterImageDescriptorKey: base64.StdEncoding.EncodeToString(desc),
	}}, nil
}

// fakeComponent is the component a fake solve's image name is for.
func fakeComponent(name string) string {
	name, _, _ = strings.Cut(name, ",")
	name = name[strings.LastIndex(name, "/")+1:]
	name, _, _ = strings.Cut(name, ":")
	return name
}

func (f *fakeDaemon) Info(context.Context) (*client.Info, error) { return &client.Info{}, nil }
func (f *fakeDaemon) Close() error                               { return nil }

func (f *fakeDaemon) record(e string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, e)
}

func (f *fakeDaemon) seen(e string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Index(f.events, e)
}

// runFake runs jobs (component → dependencies) on one fake builder.
func runFake(ctx context.Context, t *testing.T, f *fakeDaemon, opts RunOptions, deps map[string][]string, order ...string) (map[string]*Result, error) {
	t.Helper()
	b := &Builder{Name: "fake", Client: f}
	var jobs []*Job
	for _, c := range order {
		jobs = append(jobs, &Job{Component: c, Output: spec.OutputRegistry, Tags: []string{c}, DependsOn: deps[c],
			Builds: []PlatformBuild{{Platform: "linux/amd64"}}})
	}
	prog, err := NewProgress(ctx, io.Discard, "quiet")
	require.NoError(t, err)
	opts.Progress = prog
	results, runErr := Run(ctx, Farm{Builders: []*Builder{b}}, jobs, opts)
	require.NoError(t, prog.Close())
	require.Len(t, results, len(jobs))
	out := map[string]*Result{}
	for i := range results {
		assert.Equal(t, order[i], results[i].Component, "results are in jobs' order")
		out[results[i].Component] = &results[i]
	}
	return out, runErr
}

var errRUN = errors.New("process \"/bin/sh -c false\" did not complete successfully: exit code: 1")

func TestRunOrdersByDependencies(t *testing.T) {
	t.Parallel()
	f := &fakeDaemon{solve: func(context.Context, string) error { return nil }}
	res, err := runFake(context.Background(), t, f, RunOptions{}, map[string][]string{"app": {"base"}, "web": {"app", "base"}}, "web", "app", "base")
	require.NoError(t, err)
	for _, c := range []string{"base", "app", "web"} {
		assert.Equal(t, "built", res[c].State(), c)
		assert.Equal(t, "sha256:"+c, res[c].Digest, c)
		assert.Equal(t, []string{"fake"}, res[c].Builders, c)
	}
	assert.Less(t, f.seen("end base"), f.seen("start app"), "app waits for base: %v", f.events)
	assert.Less(t, f.seen("end app"), f.seen("start web"), "web waits for app: %v", f.events)
}

// TestRunFailureSkipsDependentsAndCancelsTheRest: by default the first failure cancels
// every other solve, and components that need a failed or skipped one are not built.
func TestRunFailureSkipsDependentsAndCancelsTheRest(t *testing.T) {
	t.Parallel()
	otherStarted := make(chan struct{})
	f := &fakeDaemon{solve: func(ctx context.Context, c string) error {
		switch c {
		case "base":
			<-otherStarted // fail only once "other" runs, so it is cancelled mid-solve
			return errRUN
		case "other":
			close(otherStarted)
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}}
	res, err := runFake(context.Background(), t, f, RunOptions{}, map[string][]string{"app": {"base"}, "web": {"app"}}, "base", "app", "web", "other")
	require.Error(t, err)

	assert.Equal(t, "failed", res["base"].State())
	var be *BuildError
	require.ErrorAs(t, res["base"].Err, &be)
	assert.Equal(t, "base", be.Component)
	assert.Equal(t, "fake", be.Builder)
	assert.ErrorIs(t, res["base"].Err, errRUN)

	assert.Equal(t, "skipped", res["app"].State())
	assert.EqualError(t, res["app"].Err, "component app: not built because base failed")
	assert.Equal(t, "skipped", res["web"].State(), "a dependent of a skipped component is skipped too")
	assert.EqualError(t, res["web"].Err, "component web: not built because app failed")

	assert.Equal(t, "failed", res["other"].State())
	assert.ErrorContains(t, res["other"].Err, "component other: cancelled: context canceled")

	assert.Equal(t, -1, f.seen("start app"), "a skipped component never reaches the builder")
	assert.Equal(t, -1, f.seen("start web"))
	assert.ErrorIs(t, err, errRUN, "Run's error holds the failures")
	assert.NotContains(t, err.Error(), "not built because", "skips are left out while there are failures")
}

// TestRunKeepGoing: with --keep-going a failure cancels nothing; only its dependents are
// skipped.
func TestRunKeepGoing(t *testing.T) {
	t.Parallel()
	baseDone := make(chan struct{})
	f := &fakeDaemon{solve: func(ctx context.Context, c string) error {
		switch c {
		case "base":
			defer close(baseDone)
			return errRUN
		case "other":
			<-baseDone // still solving when base fails
			return ctx.Err()
		}
		return nil
	}}
	res, err := runFake(context.Background(), t, f, RunOptions{KeepGoing: true}, map[string][]string{"app": {"base"}, "tool": {"other"}}, "base", "app", "other", "tool")
	require.Error(t, err)
	assert.Equal(t, "failed", res["base"].State())
	assert.Equal(t, "skipped", res["app"].State())
	assert.EqualError(t, res["app"].Err, "component app: not built because base failed")
	assert.Equal(t, "built", res["other"].State(), "not cancelled by base's failure")
	assert.Equal(t, "sha256:other", res["other"].Digest)
	assert.Equal(t, "built", res["tool"].State(), "independent of the failure")
	assert.ErrorIs(t, err, errRUN)
}

// TestRunCancel: cancelling the run (Ctrl-C) stops the solve in progress, and what has not
// started is skipped without reaching a builder.
func TestRunCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeDaemon{solve: func(ctx context.Context, c string) error {
		cancel() // the user presses Ctrl-C while the first solve runs
		<-ctx.Done()
		return ctx.Err()
	}}
	// Parallel 1: of the independent a and c, one runs and the other waits for a slot.
	res, err := runFake(ctx, t, f, RunOptions{Parallel: 1, KeepGoing: true}, map[string][]string{"b": {"a"}}, "a", "b", "c")
	require.Error(t, err)
	ran, waited := "a", "c"
	if f.seen("start a") < 0 {
		ran, waited = "c", "a"
	}
	assert.Equal(t, "failed", res[ran].State())
	assert.ErrorContains(t, res[ran].Err, "component "+ran+": cancelled: context canceled")
	assert.Equal(t, "skipped", res[waited].State())
	assert.EqualError(t, res[waited].Err, "component "+waited+": cancelled before it started")
	assert.Equal(t, "skipped", res["b"].State())
	assert.EqualError(t, res["b"].Err, "component b: not built because a failed")
	assert.Equal(t, []string{"start " + ran, "end " + ran}, f.events, "only one solve reached the builder")
}
