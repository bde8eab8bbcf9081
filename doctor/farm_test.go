package doctor

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

// TestPushConfigLocal: a local builder runs with the spec's rendering, so its check reads
// that rendering (solver.LocalConfig) for every host the run writes to that needs settings.
func TestPushConfigLocal(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	const comp = "component \"app\" {\n  context = \"./app\"\n  output = \"registry\"\n  tags = [%q]\n  cache_to = [%q]\n}\n"
	tests := []struct {
		name, body, checked string
	}{
		{"http and ca hosts", mirrorSpec("http://127.0.0.1:9") + "registry \"127.0.0.1:5999\" {\n  http = true\n}\nregistry \"127.0.0.1:5998\" {\n  insecure = true\n}\n" +
			fmt.Sprintf(comp, "127.0.0.1:5999/app:v1", "type=registry,ref=127.0.0.1:5998/cache/app,mode=max"),
			"buildkitd.toml rendered from the spec has the settings of 127.0.0.1:5999, 127.0.0.1:5998"},
		{"hosts without settings", mirrorSpec("http://127.0.0.1:9") + fmt.Sprintf(comp, "127.0.0.1:5997/app:v1", "type=registry,ref=127.0.0.1:5997/cache/app"),
			"writes to no registry whose block sets http, insecure or ca (127.0.0.1:5997)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := loadSpec(t, tc.body)
			assertFinding(t, runOneNamed(t, s, testOptions(t, s.Dir), "push-config local"), OK, tc.checked, "", "")
		})
	}
}
