package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/solver"
)

// testUpToDate (issue 15's "no changes" fast path): after an apply, a second apply finds
// every build up to date and sends the daemon nothing (its build history does not grow,
// the progress stream is empty); the plan says so beforehand; a tag moved behind archc's
// back gets its component rebuilt and pushed again; --force solves everything.
func testUpToDate(t *testing.T, e *env, reg registryClient) {
	dir := e.project(t, specData{Repo: "uptodate"})
	addr := "unix://" + filepath.Join(e.state, "archc", "builders", "local", "buildkitd.sock")
	md := filepath.Join(dir, "metadata.json")

	r := e.run(t, dir, "apply", "--progress=quiet")
	require.Equal(t, 0, r.code, r.stderr)
	base, app := reg.image(t, "uptodate/base", "v1"), reg.image(t, "uptodate/app", "v1")

	r = e.run(t, dir, "plan")
	require.Equal(t, 0, r.code, r.stderr)
	for _, id := range []string{"base/linux/amd64", "base/linux/arm64"} {
		assert.Contains(t, r.stdout, id+"\n")
	}
	assert.Contains(t, r.stdout, "apply       expected up to date (pushed "+base.Digest+" on "+e.push.Host+")")
	assert.Contains(t, r.stdout, "apply       expected up to date (pushed "+app.Digest+" on "+e.push.Host+")")
	assert.Contains(t, r.stdout, "; 4 expected up to date.")
	r = e.run(t, dir, "plan", "--format", "json")
	require.Equal(t, 0, r.code, r.stderr)
	var jp compiler.JSONPlan
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &jp))
	for _, b := range jp.Builds {
		require.NotNil(t, b.ExpectedUpToDate, b.ID)
		assert.Equal(t, []string{e.push.Host}, b.ExpectedUpToDate.Hosts, b.ID)
	}

	t.Run("no changes: nothing sent to the daemon", func(t *testing.T) {
		before := historyRefs(t, addr)
		r := e.run(t, dir, "apply", "--progress=rawjson", "--metadata-file", md)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, completedVertices(t, r.stderr), "no progress: nothing was solved")
		assert.Zero(t, newSolves(t, addr, before), "no solve in the builder's history")
		assert.Contains(t, r.stdout, "4 up to date (nothing sent to a builder)")
		m := readMetadata(t, md)
		for name, want := range map[string]string{"base": base.Digest, "app": app.Digest} {
			c := m.Components[name]
			assert.Equal(t, solver.StatusUpToDate, c.Status, name)
			assert.Equal(t, want, c.Digest, name)
			for p, pm := range c.Platforms {
				assert.Equal(t, solver.StatusUpToDate, pm.Status, "%s %s", name, p)
			}
		}
		assert.Equal(t, app.Digest, reg.image(t, "uptodate/app", "v1").Digest)
	})

	t.Run("a saved plan: nothing sent either", func(t *testing.T) {
		planFile := filepath.Join(t.TempDir(), "plan.json")
		r := e.run(t, dir, "plan", "-o", planFile)
		require.Equal(t, 0, r.code, r.stderr)
		before := historyRefs(t, addr)
		r = e.run(t, dir, "apply", planFile, "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Empty(t, completedVertices(t, r.stderr), "no progress: nothing was solved")
		assert.Zero(t, newSolves(t, addr, before), "no solve in the builder's history")
		assert.Contains(t, r.stdout, "4 up to date (nothing sent to a builder)")
	})

	t.Run("a moved tag is pushed again", func(t *testing.T) {
		testenv.PushTiny(t, e.push, "uptodate/app", "v1", "linux/amd64")
		require.NotEqual(t, app.Digest, reg.image(t, "uptodate/app", "v1").Digest)
		r := e.run(t, dir, "plan")
		assert.Contains(t, r.stdout, "; 4 expected up to date.", "the plan reads local records only")
		before := historyRefs(t, addr)
		r = e.run(t, dir, "apply", "--progress=quiet", "--metadata-file", md)
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "component app: not up to date: tag "+e.push.Host+"/uptodate/app:v1 names ")
		assert.Positive(t, newSolves(t, addr, before), "app was solved")
		m := readMetadata(t, md)
		assert.Equal(t, solver.StatusUpToDate, m.Components["base"].Status)
		assert.NotEqual(t, solver.StatusUpToDate, m.Components["app"].Status)
		assert.Equal(t, app.Digest, reg.image(t, "uptodate/app", "v1").Digest, "the same inputs push the same index again")
	})

	t.Run("--force solves", func(t *testing.T) {
		before := historyRefs(t, addr)
		r := e.run(t, dir, "apply", "--force", "--progress=rawjson", "--metadata-file", md)
		require.Equal(t, 0, r.code, r.stderr)
		assert.NotEmpty(t, completedVertices(t, r.stderr))
		assert.Positive(t, newSolves(t, addr, before))
		assert.NotContains(t, r.stdout, "expected up to date", "--force: the plan expects nothing")
		for name, c := range readMetadata(t, md).Components {
			assert.Equal(t, "cached", c.Status, name)
		}
	})

	t.Run("a changed context rebuilds it and what it feeds", func(t *testing.T) {
		write(t, dir, map[string]string{"base/kept.txt": "changed\n"})
		defer write(t, dir, map[string]string{"base/kept.txt": "kept\n"})
		r := e.run(t, dir, "plan")
		assert.NotContains(t, r.stdout, "expected up to date")
		r = e.run(t, dir, "apply", "--progress=quiet", "--metadata-file", md)
		require.Equal(t, 0, r.code, r.stderr)
		for name, c := range readMetadata(t, md).Components {
			assert.NotEqual(t, solver.StatusUpToDate, c.Status, name)
		}
		assert.NotEqual(t, base.Digest, reg.image(t, "uptodate/base", "v1").Digest)
	})
}

func readMetadata(t *testing.T, path string) solver.Metadata {
	t.Helper()
	dt, err := os.ReadFile(path)
	require.NoError(t, err)
	var m solver.Metadata
	require.NoError(t, json.Unmarshal(dt, &m))
	return m
}

// historyRefs are the refs of the build history records (completed and running) on the
// builder at addr: each solve archc sends adds one.
func historyRefs(t *testing.T, addr string) map[string]bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := client.New(ctx, addr)
	require.NoError(t, err)
	defer c.Close()
	stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
	require.NoError(t, err)
	refs := map[string]bool{}
	for {
		ev, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err, "build history of %s", addr)
		if rec := ev.GetRecord(); rec != nil {
			refs[rec.Ref] = true
		}
	}
	return refs
}

// newSolves counts the records of the builder's history that are not in before.
func newSolves(t *testing.T, addr string, before map[string]bool) int {
	t.Helper()
	n := 0
	for ref := range historyRefs(t, addr) {
		if !before[ref] {
			n++
		}
	}
	return n
}
