package solver

import (
	"context"
	"errors"
	"testing"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// defRunning is a definition for target whose RUN steps execute on each of runs (a
// `FROM --platform=$BUILDPLATFORM` stage runs on the build platform).
func defRunning(t *testing.T, target string, runs ...string) *pb.Definition {
	t.Helper()
	st := llb.Scratch()
	for _, r := range runs {
		p := llb.Platform(platforms.MustParse(r))
		stage := llb.Image("docker.io/library/busybox:latest", p).Run(llb.Shlex("true"), p).Root()
		st = st.File(llb.Copy(stage, "/bin/busybox", "/"+r+"/"))
	}
	def, err := st.Marshal(context.Background(), llb.Platform(platforms.MustParse(target)))
	require.NoError(t, err)
	return def.ToPB()
}

func TestCheckRunNeeds(t *testing.T) {
	t.Parallel()
	nativeArm := &Builder{Name: "arm", Address: "tcp://10.0.0.5:1234", Workers: []ocispecs.Platform{plat("arm64")}}
	armEmulatingAmd := &Builder{Name: "arm", Workers: []ocispecs.Platform{plat("arm64"), plat("amd64")}}
	local := &Builder{Name: "local", Workers: []ocispecs.Platform{plat("amd64"), plat("386")}}
	tests := []struct {
		name    string
		arm     *Builder
		runs    []string // where the arm64 build's RUN steps execute
		missing []string
	}{
		{"arm64 steps on a native arm64 node", nativeArm, []string{"linux/arm64"}, nil},
		{"build-platform (amd64) stage on a native arm64 node without emulation", nativeArm, []string{"linux/amd64", "linux/arm64"}, []string{"linux/amd64"}},
		{"build-platform stage on a node that emulates amd64", armEmulatingAmd, []string{"linux/amd64", "linux/arm64"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := &Job{Component: "web", Builds: []PlatformBuild{
				{Platform: "linux/amd64", Def: defRunning(t, "linux/amd64", "linux/amd64")},
				{Platform: "linux/arm64", Def: defRunning(t, "linux/arm64", tc.runs...)},
			}}
			route := map[string]*Builder{"linux/amd64": local, "linux/arm64": tc.arm}
			var needs []RunNeed
			for _, build := range j.Builds {
				needs = append(needs, runNeeds(j.Component, build.Platform, execPlatforms(build.Def))...)
			}
			err := CheckRunNeeds(route, needs)
			if tc.missing == nil {
				assert.NoError(t, err)
				return
			}
			var ee *EmulationError
			require.ErrorAs(t, err, &ee)
			assert.Equal(t, tc.missing, ee.Platforms)
			assert.Contains(t, ee.Cause, `builder "arm" (tcp://10.0.0.5:1234) workers: linux/arm64; web (linux/arm64) run steps on linux/amd64`)
			assert.Contains(t, ee.Cause, "FROM --platform=$BUILDPLATFORM")
			require.Len(t, ee.Fixes, 2)
			assert.Contains(t, ee.Fixes[0], "qemu-x86_64")
			assert.Contains(t, ee.Fixes[1], "--build-platform")
		})
	}
}

func TestExecPlatforms(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, execPlatforms(defRunning(t, "linux/arm64", "linux/arm64", "linux/amd64")))
	assert.Empty(t, execPlatforms(defRunning(t, "linux/arm64")), "no RUN: nothing executes")
	assert.Empty(t, execPlatforms(nil))
}

// TestJobsFromPlanRunPlatforms: the platforms a build's steps run on are computed once,
// when the job is made from the plan, so the scheduler never decodes a definition.
func TestJobsFromPlanRunPlatforms(t *testing.T) {
	t.Parallel()
	var def llb.Definition
	def.FromPB(defRunning(t, "linux/arm64", "linux/arm64", "linux/amd64"))
	s := &spec.Spec{Dir: "/proj", Components: []spec.Component{{Name: "web", Platforms: []string{"linux/arm64"}}}}
	jobs, err := JobsFromPlan(&compiler.Plan{Builds: []compiler.Build{
		{ID: "web/linux/arm64", Component: "web", Platform: "linux/arm64", Definition: &def},
	}}, s)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	require.Len(t, jobs[0].Builds, 1)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, jobs[0].Builds[0].RunPlatforms)
}

// TestSchedulerCandidatesRunPlatforms: the scheduler keeps the candidates whose workers
// run every platform the build's steps run on, and with none left returns CheckRunNeeds'
// error for the first candidate, word for word.
func TestSchedulerCandidatesRunPlatforms(t *testing.T) {
	t.Parallel()
	s := farmSpec(func(s *spec.Spec) {
		s.Builders = append(s.Builders, spec.Builder{Name: "arm-emu", Address: "tcp://127.0.0.1:4", Platforms: []string{"linux/arm64"}})
	})
	arm, armEmu := farmBuilder(s, "arm", "arm64"), farmBuilder(s, "arm-emu", "arm64", "amd64")
	j := &Job{Component: "app"}
	build := PlatformBuild{Platform: "linux/arm64", RunPlatforms: []string{"linux/amd64", "linux/arm64"}}
	sched := newScheduler(Farm{Spec: s, Builders: []*Builder{arm, armEmu}})

	cands, err := sched.candidates(j, build)
	require.NoError(t, err)
	assert.Equal(t, []*Builder{armEmu}, cands, "only the node that also runs linux/amd64")

	native, err := sched.candidates(j, PlatformBuild{Platform: "linux/arm64", RunPlatforms: []string{"linux/arm64"}})
	require.NoError(t, err)
	assert.Equal(t, []*Builder{arm, armEmu}, native, "steps on the target only: every candidate")

	sched.markLost(armEmu, errors.New("gone"))
	_, err = sched.candidates(j, build)
	want := CheckRunNeeds(map[string]*Builder{"linux/arm64": arm}, runNeeds("app", "linux/arm64", build.RunPlatforms))
	require.Error(t, want)
	var ee *EmulationError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, []string{"linux/amd64"}, ee.Platforms)
	assert.Equal(t, want.Error(), err.Error())
	assert.Equal(t, err, checkCandidates(Farm{Spec: s, Builders: []*Builder{arm}}, []*Job{{Component: "app", Builds: []PlatformBuild{build}}}))
}
