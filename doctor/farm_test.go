package doctor

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/solver"
)

// TestDownBuilderVerdict: a builder that does not answer gets apply's verdict
// (solver.Availability): a warning naming where its work goes when another builder takes
// it, a failure when it is required, when a component is pinned to it, or when no other
// builder runs its platform. The local builder is not running: apply would start it, so it
// counts as up with this machine's platforms.
func TestDownBuilderVerdict(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	binfmt := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(binfmt, "qemu-aarch64"), []byte("enabled\n"), 0o644))
	sock := "unix://" + filepath.Join(t.TempDir(), "gone.sock")
	const app = "\ncomponent \"app\" {\n  context = \"./app\"\n%s}\n"
	tests := []struct {
		name        string
		gone, comp  string // the down builder's extra attributes; the component's
		plats       []string
		verdict     Verdict
		cause       string
		platVerdict Verdict
	}{
		{name: "skippable: its work goes to local", plats: []string{"linux/amd64"},
			verdict: Warn, cause: "`archc apply` skips it with a warning: its work goes to local", platVerdict: OK},
		{name: "required", gone: "  required = true\n", plats: []string{"linux/amd64"},
			verdict: Fail, cause: `builder "gone" (` + sock + `) is required (required = true) and is down`, platVerdict: Fail},
		{name: "a component is pinned to it", comp: "  builder = \"gone\"\n", plats: []string{"linux/amd64"},
			verdict: Fail, cause: `component app is pinned to builder "gone"`, platVerdict: Fail},
		{name: "no other builder runs its platform", gone: "  platforms = [\"linux/s390x\"]\n", plats: []string{"linux/s390x"},
			verdict: Fail, cause: "no builder can run linux/s390x", platVerdict: Fail},
		{name: "no work in this run", gone: "  platforms = [\"linux/s390x\"]\n", plats: []string{"linux/amd64"},
			verdict: Warn, cause: "it has no work in this run", platVerdict: OK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := mirrorSpec("http://127.0.0.1:9", tc.plats...) + "builder \"local\" {}\n" +
				"builder \"gone\" {\n  address = \"" + sock + "\"\n" + tc.gone + "}\n" + fmt.Sprintf(app, tc.comp)
			s := loadSpec(t, body)
			o := testOptions(t, s.Dir)
			o.binfmtDir = binfmt
			r := runBuilderChecks(s, o)
			gone := *r.Find("builder gone")
			assertFinding(t, gone, tc.verdict, `builder "gone" at `+sock, tc.cause, "start buildkitd there")
			assert.Contains(t, gone.Cause, "list workers at "+sock, "the cause says why it is down")
			if tc.verdict == Warn {
				assert.Contains(t, gone.Fix, "the run goes on without it")
			}
			assert.Equal(t, tc.platVerdict, r.Find("platforms").Verdict, r.Find("platforms").Cause)
			// Its probes say they did not run, without a verdict of their own.
			assertFinding(t, *r.Find("probe gone"), Warn, "", "not probed: it does not answer", "see the builder check gone")
			assertFinding(t, *r.Find("push gone"), Warn, "", "not probed: it does not answer", "see the builder check gone")
		})
	}
}

// TestDownVerdictFields: where a skipped builder's work goes is read from solver's data
// (solver.Assess), not cut out of its warning: an error text holding "; " once made the
// verdict quote part of the error as where the work goes.
func TestDownVerdictFields(t *testing.T) {
	t.Parallel()
	s := loadSpec(t, mirrorSpec("http://127.0.0.1:9", "linux/amd64")+"builder \"local\" {}\n"+
		"builder \"gone\" {\n  address = \"tcp://127.0.0.1:1\"\n}\ncomponent \"app\" {\n  context = \"./app\"\n}\n")
	e := &env{s: s}
	f := farm{up: []*solver.Builder{{Name: "local", Local: true, Workers: parsePlatforms([]string{"linux/amd64"})}}}
	v, then := e.downVerdict(f, "gone", errors.New(`builder "gone": dial tcp 127.0.0.1:1: connection refused; gave up after 3 tries`))
	assert.Equal(t, Warn, v)
	assert.Equal(t, "`archc apply` skips it with a warning: its work goes to local", then)
}
