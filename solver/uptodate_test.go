package solver

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// upToDateRig is one registry-output component "app" whose tag lives behind a fault
// proxy in front of a real registry, and a push record directory.
type upToDateRig struct {
	reg   *testenv.Registry
	front *testenv.FaultProxy
	spec  *spec.Spec
	plan  *compiler.Plan
	jobs  []*Job
	recs  PushRecords
	tag   string
	image testenv.Image // what the tag names
}

func newUpToDateRig(t *testing.T) *upToDateRig {
	t.Helper()
	r := &upToDateRig{reg: testenv.StartRegistry(t), recs: PushRecords(t.TempDir())}
	r.front = testenv.StartFaultProxy(t, r.reg.URL)
	r.image = testenv.PushTiny(t, r.reg, "e2e/app", "v1", "linux/amd64", "linux/arm64")
	r.tag = r.front.Host + "/e2e/app:v1"
	r.spec = &spec.Spec{Registries: []spec.Registry{{Host: r.front.Host, HTTP: true}}}
	r.plan = &compiler.Plan{}
	job := &Job{Component: "app", Output: spec.OutputRegistry, Tags: []string{r.tag}}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		b := identityBuild()
		b.ID, b.Platform, b.Outputs = "app/"+p, p, []compiler.Output{{Type: spec.OutputRegistry, Name: r.tag}}
		r.plan.Builds = append(r.plan.Builds, b)
		job.Builds = append(job.Builds, PlatformBuild{Platform: p})
	}
	r.jobs = []*Job{job}
	return r
}

// pushed records what a solve that pushed r.image under the tag would.
func (r *upToDateRig) pushed(t *testing.T) {
	t.Helper()
	_, _, record := r.opts(nil).fastPath(context.Background(), r.spec, r.plan, nil, nil)
	record([]Result{{Component: "app", Output: spec.OutputRegistry, Tags: []string{r.tag}, Digest: r.image.Index.String(),
		Builds: []BuildResult{{Platform: "linux/amd64", Status: StatusBuilt, Digest: r.image.Platforms["linux/amd64"].Manifest.String()},
			{Platform: "linux/arm64", Status: StatusBuilt, Digest: r.image.Platforms["linux/arm64"].Manifest.String()}}}})
}

func (r *upToDateRig) opts(out *bytes.Buffer) ApplyOptions {
	o := ApplyOptions{Records: r.recs}
	if out != nil {
		o.Out = out
	} else {
		o.Out = &bytes.Buffer{}
	}
	return o
}

// check runs the fast path and returns the components found up to date and the log.
func (r *upToDateRig) check(t *testing.T, ctx context.Context, o ApplyOptions) (map[string]Result, []*Job, string) {
	t.Helper()
	var out bytes.Buffer
	o.Out = &out
	done, rest, _ := o.fastPath(ctx, r.spec, r.plan, r.jobs, nil)
	return done, rest, out.String()
}

func TestFastPathUpToDate(t *testing.T) {
	t.Parallel()
	r := newUpToDateRig(t)
	done, rest, _ := r.check(t, context.Background(), r.opts(nil))
	assert.Empty(t, done, "no record yet")
	assert.Len(t, rest, 1)
	assert.Zero(t, r.front.Count("/v2/e2e/app/manifests/"), "no record, no request")

	r.pushed(t)
	r.front.ResetLog()
	done, rest, _ = r.check(t, context.Background(), r.opts(nil))
	require.Contains(t, done, "app")
	assert.Empty(t, rest)
	got := done["app"]
	assert.True(t, got.UpToDate)
	assert.Equal(t, StatusUpToDate, got.State())
	assert.Equal(t, r.image.Index.String(), got.Digest)
	assert.Equal(t, []string{r.tag}, got.Tags)
	require.Len(t, got.Builds, 2)
	assert.Equal(t, r.image.Platforms["linux/arm64"].Manifest.String(), got.Builds[1].Digest)
	assert.Equal(t, 1, r.front.Count("/v2/e2e/app/manifests/v1"), "one HEAD per tag")

	o := r.opts(nil)
	o.Force = true
	done, rest, _ = r.check(t, context.Background(), o)
	assert.Empty(t, done, "--force solves")
	assert.Len(t, rest, 1)
}

// TestExpect: the plan's marker comes from the records alone, no request. Not parallel:
// it sets XDG_STATE_HOME.
func TestExpect(t *testing.T) {
	r := newUpToDateRig(t)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	assert.Empty(t, Expect(r.spec, r.plan), "no record")
	dir, err := PushRecordsDir()
	require.NoError(t, err)
	r.recs = dir
	r.pushed(t)
	r.front.ResetLog()
	got := Expect(r.spec, r.plan)
	want := compiler.Expectation{Digest: r.image.Index.String(), Hosts: []string{r.front.Host}}
	assert.Equal(t, compiler.Expectations{"app/linux/amd64": want, "app/linux/arm64": want}, got)
	assert.Zero(t, r.front.Count(""), "the plan makes no request")
}

// TestFastPathSharesPushState: apply reads the push state once: the state its plan view
// read is the one the up-to-date check starts from (a record removed in between is not
// read again), unless it was read for another plan (the plan before --no-cache's copy).
func TestFastPathSharesPushState(t *testing.T) {
	t.Parallel()
	r := newUpToDateRig(t)
	r.pushed(t)
	ps := newPushState(r.spec, r.plan, r.recs)
	require.Len(t, ps.Expectations(), 2, "both builds expected up to date")
	require.NoError(t, os.RemoveAll(string(r.recs)))
	r.front.ResetLog()

	o := r.opts(nil)
	o.Pushes = ps
	done, rest, _ := r.check(t, context.Background(), o)
	assert.Contains(t, done, "app", "the record read for the plan view")
	assert.Empty(t, rest)
	assert.Equal(t, 1, r.front.Count("/v2/e2e/app/manifests/v1"), "the tag is still checked")

	other := *r.plan
	o.Pushes = newPushState(r.spec, &other, r.recs)
	done, rest, _ = r.check(t, context.Background(), o)
	assert.Empty(t, done, "a state read for another plan is not used")
	assert.Len(t, rest, 1)
}

func TestFastPathInputsChanged(t *testing.T) {
	t.Parallel()
	r := newUpToDateRig(t)
	r.pushed(t)
	r.plan.Builds[1].ConfigDigest = digest.FromString("a new ENTRYPOINT")
	r.front.ResetLog()
	done, rest, _ := r.check(t, context.Background(), r.opts(nil))
	assert.Empty(t, done)
	assert.Len(t, rest, 1)
	assert.Zero(t, r.front.Count(""), "changed inputs need no request to be solved")
}

// TestFastPathUnverifiable: whatever keeps the tag from being checked, the component is
// solved and the run goes on.
func TestFastPathUnverifiable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, r *upToDateRig)
		log   string
	}{
		{"tag moved", func(t *testing.T, r *upToDateRig) {
			testenv.PushTiny(t, r.reg, "e2e/app", "v1", "linux/amd64")
		}, "names sha256:"},
		{"tag deleted", func(t *testing.T, r *upToDateRig) {
			r.front.Set(testenv.Status(http.StatusNotFound, nil).OnPath("/v2/e2e/app/manifests/"))
		}, "cannot check tag"},
		{"registry answers 503", func(t *testing.T, r *upToDateRig) {
			r.front.Set(testenv.Status(http.StatusServiceUnavailable, nil))
		}, "cannot check tag"},
		{"credentials refused", func(t *testing.T, r *upToDateRig) {
			r.front.Set(testenv.Status(http.StatusForbidden, nil))
		}, "cannot check tag"},
		{"registry down", func(t *testing.T, r *upToDateRig) {
			host := testenv.ClosedAddr(t)
			r.spec.Registries[0].Host = host
			r.tag = host + "/e2e/app:v1"
			r.jobs[0].Tags = []string{r.tag}
			for i := range r.plan.Builds {
				r.plan.Builds[i].Outputs[0].Name = r.tag
			}
			r.pushed(t)
		}, "cannot check tag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newUpToDateRig(t)
			r.pushed(t)
			tc.setup(t, r)
			// The 503 is retried by the one retry policy until this deadline; the fast
			// path gives up then and the component is solved.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			done, rest, log := r.check(t, ctx, r.opts(nil))
			assert.Empty(t, done)
			assert.Len(t, rest, 1)
			assert.Contains(t, log, "component app: not up to date: ")
			assert.Contains(t, log, tc.log)
		})
	}
}

func TestMergeResultsKeepsJobOrder(t *testing.T) {
	t.Parallel()
	jobs := []*Job{{Component: "a"}, {Component: "b"}, {Component: "c"}}
	got := mergeResults(jobs, map[string]Result{"b": {Component: "b", UpToDate: true}},
		[]Result{{Component: "c"}, {Component: "a"}})
	require.Len(t, got, 3)
	assert.Equal(t, []string{"a", "b", "c"}, []string{got[0].Component, got[1].Component, got[2].Component})
	assert.True(t, got[1].UpToDate)
}

func TestResultsShowUpToDate(t *testing.T) {
	t.Parallel()
	res := []Result{upToDate(&Job{Component: "app", Output: spec.OutputRegistry, Builds: []PlatformBuild{{Platform: "linux/amd64"}}},
		&PushRecord{Digest: "sha256:abc", Tags: []string{"r/app:1"}, Platforms: map[string]string{"linux/amd64": "sha256:def"}})}
	var b bytes.Buffer
	require.NoError(t, WriteResults(&b, res))
	assert.Contains(t, b.String(), "up to date")
	assert.Contains(t, b.String(), "sha256:def")
	assert.Contains(t, b.String(), "1 up to date (nothing sent to a builder)")
	md := NewMetadata(res, nil, nil)
	assert.Equal(t, StatusUpToDate, md.Components["app"].Status)
	assert.Equal(t, map[string]string{"r/app:1": "sha256:abc"}, md.Components["app"].Tags)
	assert.Equal(t, StatusUpToDate, md.Components["app"].Platforms["linux/amd64"].Status)
}
