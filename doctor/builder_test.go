package doctor

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/solver"
	"github.com/archc-dev/archc/spec"
)

// emulationFix is what a platform no builder serves must be told.
var emulationFix = []string{"binfmt_misc", "qemu-user-static", "or add a native node to the spec"}

// TestBuilderNotRunning: a local builder that is not running is fine (apply starts it);
// its platforms are predicted from this machine and binfmt_misc (a fake one here, with
// only aarch64 registered).
func TestBuilderNotRunning(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	binfmt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(binfmt, "qemu-aarch64"), []byte("enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: POF\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(binfmt, "qemu-s390x"), []byte("disabled\n"), 0o644))
	tests := []struct {
		platforms []string
		verdict   Verdict
		checked   string
		cause     string
	}{
		{[]string{"linux/amd64", "linux/arm64"}, OK, "linux/amd64 → local, linux/arm64 → local", ""},
		{[]string{"linux/amd64", "linux/s390x"}, Fail, "expecting linux/386, linux/amd64, linux/arm64 (this machine and binfmt_misc)", "no builder can run linux/s390x\n  linux/s390x is needed by app"},
	}
	for _, tt := range tests {
		s := loadSpec(t, mirrorSpec("http://127.0.0.1:9", tt.platforms...))
		o := testOptions(t, s.Dir)
		o.binfmtDir = binfmt
		r := runBuilderChecks(s, o)
		assertFinding(t, *r.Find("builder local"), OK, "local buildkitd not running: `archc apply` (or `archc builder up`) starts it", "", "")
		assertFinding(t, *r.Find("builder-config local"), OK, "not running: it will start with the spec's config", "", "")
		f := r.Find("platforms")
		assertFinding(t, *f, tt.verdict, tt.checked, tt.cause, "")
		if tt.verdict == Fail {
			for _, fix := range emulationFix {
				assert.Contains(t, f.Fix, fix)
			}
			assert.NotContains(t, f.Cause, "fix", "the cause is only the cause")
			assert.True(t, strings.HasPrefix(f.Fix, "either\n- enable emulation on the builder's host"), f.Fix)
			assert.Contains(t, f.Fix, "archc builder up`);\n- or add a native node")
		}
	}
}

// TestRemoteBuilderUnreachable: a builder address nothing answers on fails, with a fix.
func TestRemoteBuilderUnreachable(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "none.sock")
	s := loadSpec(t, mirrorSpec("http://127.0.0.1:9")+"builder \"remote\" {\n  address = \"unix://"+sock+"\"\n}\n")
	o := testOptions(t, s.Dir)
	assertFinding(t, runOneNamed(t, s, o, "builder remote"), Fail, "builder \"remote\" at unix://"+sock, "builder \"remote\": list workers at unix://",
		"start buildkitd there, or fix builder \"remote\" { address } in the spec")
	assertFinding(t, runOneNamed(t, s, o, "platforms"), Fail, "platforms linux/amd64", "no builder answers", "see the builder checks")
}

// TestLocalBuilderRunning starts a real buildkitd the way apply does (solver.EnsureLocal
// with the spec's rendering) and checks it: reachable with its version, workers without
// s390x (this machine emulates only arm64), and config drift when the spec changes.
func TestLocalBuilderRunning(t *testing.T) {
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	bin := testenv.Require(t, testenv.PartBuildkitd)
	state, err := os.MkdirTemp("", "archc-doctor-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(state) })
	t.Setenv("XDG_STATE_HOME", state)
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH")) // where EnsureLocal finds buildkitd
	t.Cleanup(func() { _, _ = solver.StopLocal(context.Background(), solver.DefaultLocalName, nil) })

	s := loadSpec(t, mirrorSpec("http://127.0.0.1:9", "linux/amd64"))
	config, env, err := solver.LocalConfig(s)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := solver.EnsureLocal(ctx, solver.LocalOptions{Config: config, Env: env})
	require.NoError(t, err)
	b.Close()

	o := testOptions(t, s.Dir)
	r := runBuilderChecks(s, o)
	assertFinding(t, *r.Find("builder local"), OK, "answers: buildkitd v", "", "")
	assertFinding(t, *r.Find("platforms"), OK, "linux/amd64 → local", "", "")
	assertFinding(t, *r.Find("builder-config local"), OK, "identical (mirrors, http/insecure, CA, proxy)", "", "")

	t.Run("platform no worker serves", func(t *testing.T) {
		s := loadSpec(t, mirrorSpec("http://127.0.0.1:9", "linux/amd64", "linux/s390x"))
		f := runOneNamed(t, s, testOptions(t, s.Dir), "platforms")
		assertFinding(t, f, Fail, "platforms linux/amd64, linux/s390x", "no builder can run linux/s390x\n  linux/s390x is needed by app\n  builder \"local\"", "qemu-s390x")
		for _, fix := range emulationFix {
			assert.Contains(t, f.Fix, fix)
		}
	})
	t.Run("another mirror in the spec", func(t *testing.T) {
		s := loadSpec(t, mirrorSpec("http://127.0.0.1:8", "linux/amd64"))
		f := runOneNamed(t, s, testOptions(t, s.Dir), "builder-config local")
		assertFinding(t, f, Warn, "", `daemon lacks [registry.'docker.io'] mirrors = ['127.0.0.1:8']`, "archc builder down && archc builder up")
	})
	t.Run("a proxy in the spec", func(t *testing.T) {
		s := loadSpec(t, mirrorSpec("http://127.0.0.1:9", "linux/amd64")+"proxy {\n  https_proxy = \"http://u:s3cret@127.0.0.1:7\"\n}\n")
		f := runOneNamed(t, s, testOptions(t, s.Dir), "builder-config local")
		assertFinding(t, f, Warn, "", "proxy environment differs: HTTPS_PROXY, https_proxy", "archc builder down && archc builder up")
		assert.NotContains(t, f.Cause, "s3cret")
	})
}

// TestPlatformsTheBuildersMustRun: the platforms check refuses what apply would refuse, and
// only that: a builder block's declared platform its workers cannot run, and a
// build-platform stage (FROM --platform=$BUILDPLATFORM) with RUN steps on a builder that
// cannot run the build platform; the same stage without RUN runs nothing there.
func TestPlatformsTheBuildersMustRun(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir()) // the local builder is not running: predicted workers
	binfmt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(binfmt, "qemu-aarch64"), []byte("enabled\ninterpreter /usr/bin/qemu-aarch64-static\nflags: POF\n"), 0o644))
	const buildStage = "FROM --platform=$BUILDPLATFORM busybox:1.36 AS tools\nRUN true\nFROM busybox:1.36\nCOPY --from=tools /bin/true /\n"
	const copyStage = "FROM --platform=$BUILDPLATFORM busybox:1.36 AS tools\nFROM busybox:1.36\nCOPY --from=tools /bin/true /\n"
	tests := []struct {
		name          string
		body          string
		dockerfile    string
		buildPlatform string
		verdict       Verdict
		cause, fix    string
	}{
		{name: "declared platform the workers run", body: mirrorSpec("http://127.0.0.1:9", "linux/arm64") + "builder \"z\" {\n  platforms = [\"linux/arm64\"]\n}\n",
			verdict: OK},
		{name: "declared platform without emulation", body: mirrorSpec("http://127.0.0.1:9", "linux/s390x") + "builder \"z\" {\n  platforms = [\"linux/s390x\"]\n}\n",
			verdict: Fail, cause: "no builder can run linux/s390x\n  linux/s390x is needed by app\n  builder \"z\"", fix: "qemu-s390x"},
		{name: "build-platform stage the builder runs", body: mirrorSpec("http://127.0.0.1:9", "linux/arm64"), dockerfile: buildStage,
			buildPlatform: "linux/amd64", verdict: OK},
		{name: "build-platform stage the builder cannot run", body: mirrorSpec("http://127.0.0.1:9", "linux/arm64"), dockerfile: buildStage,
			buildPlatform: "linux/s390x", verdict: Fail, cause: "app (linux/arm64) run steps on linux/s390x", fix: "--build-platform"},
		// As in apply, a stage pulled for the build platform needs it only to run something.
		{name: "build-platform stage without RUN", body: mirrorSpec("http://127.0.0.1:9", "linux/arm64"), dockerfile: copyStage,
			buildPlatform: "linux/s390x", verdict: OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := loadSpec(t, tc.body)
			if tc.dockerfile != "" {
				require.NoError(t, os.WriteFile(filepath.Join(s.Dir, "app", "Dockerfile"), []byte(tc.dockerfile), 0o644))
			}
			o := testOptions(t, s.Dir)
			o.binfmtDir = binfmt
			if tc.buildPlatform != "" {
				o.BuildPlatform = tc.buildPlatform
			}
			f := runOneNamed(t, s, o, "platforms")
			assertFinding(t, f, tc.verdict, "", tc.cause, tc.fix)
		})
	}
}

// runBuilderChecks runs the builder checks of s (not the network ones).
func runBuilderChecks(s *spec.Spec, o Options) *Report {
	var sel []Check
	for _, c := range Checks(s, o) {
		for _, p := range []string{"builder ", "platforms", "builder-config ", "probe ", "push"} {
			if strings.HasPrefix(c.Name, p) {
				sel = append(sel, c)
				break
			}
		}
	}
	return Run(context.Background(), sel)
}
