package solver

import (
	"context"
	"testing"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// twoPlatformJob compiles a tiny definition per platform: an image, a RUN, a file op.
func twoPlatformJob(t *testing.T) (*Job, map[string][]digest.Digest) {
	t.Helper()
	j := &Job{Component: "web"}
	ops := map[string][]digest.Digest{}
	for _, p := range []string{"linux/amd64", "linux/arm64"} {
		st := llb.Image("docker.io/library/busybox@sha256:"+digestHex(p), llb.Platform(mustParse(p))).
			Run(llb.Shlex("echo hi")).Root().
			File(llb.Mkdir("/x", 0o755))
		def, err := st.Marshal(context.Background(), llb.Platform(mustParse(p)))
		require.NoError(t, err)
		j.Builds = append(j.Builds, PlatformBuild{Platform: p, Def: def.ToPB()})
		for _, dt := range def.Def {
			ops[p] = append(ops[p], digest.FromBytes(dt))
		}
	}
	return j, ops
}

func TestTrackerPrefixesAndCounts(t *testing.T) {
	t.Parallel()
	j, ops := twoPlatformJob(t)
	tr := newTracker(j, j.Builds)
	now := time.Now()
	arm := ops["linux/arm64"]
	st := &client.SolveStatus{Vertexes: []*client.Vertex{
		{Digest: arm[0], Name: "FROM busybox", Completed: &now},                            // source: not a step
		{Digest: arm[1], Name: "RUN echo hi", Completed: &now, Cached: true},               // exec
		{Digest: arm[2], Name: "mkdir /x", Completed: &now},                                // file
		{Digest: digest.FromString("export"), Name: "exporting to image", Completed: &now}, // not in the definition
	}}
	tr.observe(st)
	assert.Equal(t, "[web linux/arm64] RUN echo hi", st.Vertexes[1].Name)
	assert.Equal(t, "[web] exporting to image", st.Vertexes[3].Name)
	steps, cached := tr.counts()
	assert.Equal(t, 2, steps)
	assert.Equal(t, 1, cached)
}

func TestTrackerFailureKeepsLastLogLines(t *testing.T) {
	t.Parallel()
	j, ops := twoPlatformJob(t)
	tr := newTracker(j, j.Builds)
	run := ops["linux/amd64"][1]
	now := time.Now()
	var logs []*client.VertexLog
	for i := 0; i < keepLogLines+5; i++ {
		logs = append(logs, &client.VertexLog{Vertex: run, Data: []byte("line " + string(rune('a'+i)) + "\n")})
	}
	tr.observe(&client.SolveStatus{Logs: logs})
	tr.observe(&client.SolveStatus{Vertexes: []*client.Vertex{{Digest: run, Name: "RUN make", Completed: &now, Error: "exit code: 2"}}})
	name, lines, platform := tr.failure()
	assert.Equal(t, "[web linux/amd64] RUN make", name)
	assert.Equal(t, "linux/amd64", platform)
	require.Len(t, lines, keepLogLines)
	assert.Equal(t, "line "+string(rune('a'+keepLogLines+4)), lines[len(lines)-1])
}

func TestResultState(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "cached", (&Result{Steps: 3, CachedSteps: 3}).State())
	assert.Equal(t, "built", (&Result{Steps: 3, CachedSteps: 1}).State())
	assert.Equal(t, "built", (&Result{}).State(), "no step seen is no proof of a cache hit")
	assert.Equal(t, "failed", (&Result{Err: assert.AnError}).State())
	assert.Equal(t, "skipped", (&Result{Err: assert.AnError, Skipped: true}).State())
}

func digestHex(s string) string { return digest.FromString(s).Encoded() }

func mustParse(p string) ocispecs.Platform {
	sp, err := platforms.Parse(p)
	if err != nil {
		panic(err)
	}
	return platforms.Normalize(sp)
}
