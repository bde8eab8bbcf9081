package doctor

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/doctor")

const goldenDir = "../testdata/doctor"

// sampleReport has one finding of each verdict, a multi-line fix and fixed durations.
func sampleReport() *Report {
	return &Report{Findings: []Finding{
		{Name: "spec", Verdict: OK, Checked: "archbuild.hcl: valid, 3 components", Duration: 0},
		{Name: "mirror http://127.0.0.1:5000", Verdict: Fail, Checked: "GET http://127.0.0.1:5000/v2/",
			Cause: "no answer within 5s", Fix: "restart the mirror\nor remove it", Duration: 5*time.Second + 2*time.Millisecond},
		{Name: "no_proxy", Verdict: Warn, Checked: `no_proxy = ["localhost"]`, Cause: "not covered: 127.0.0.1:5001",
			Fix: `add "127.0.0.1" to no_proxy`, Duration: 12 * time.Millisecond},
	}}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir, name)
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), string(got))
}

func TestWriteText(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, sampleReport(), TextOptions{}))
	golden(t, "report.txt", b.Bytes())

	b.Reset()
	require.NoError(t, WriteText(&b, sampleReport(), TextOptions{Color: true}))
	assert.Contains(t, b.String(), "\x1b[31m✗\x1b[0m mirror")

	b.Reset()
	require.NoError(t, WriteText(&b, &Report{Findings: sampleReport().Findings[:1]}, TextOptions{}))
	assert.Contains(t, b.String(), "1 ok, 0 warnings, 0 failures: nothing stands in the way of a build")
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, WriteJSON(&b, sampleReport()))
	golden(t, "report.json", b.Bytes())

	var back struct {
		Checks []struct {
			Finding
			DurationMS int64 `json:"duration_ms"`
		} `json:"checks"`
		ExitCode int `json:"exit_code"`
	}
	require.NoError(t, json.Unmarshal(b.Bytes(), &back))
	assert.Equal(t, Fail, back.Checks[1].Verdict, "verdicts round-trip")
	assert.Equal(t, int64(5002), back.Checks[1].DurationMS)
	assert.Equal(t, 1, back.ExitCode)
}
