package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testDoctorAllOK runs `archc doctor` on a project that has just been built: its mirror,
// push registry, proxy and local builder are all as the spec says, so every check passes,
// the builder checks included (the running daemon's config matches the spec's rendering).
func testDoctorAllOK(t *testing.T, e *env, dir string) {
	r := e.run(t, dir, "doctor", "--format", "json", "--connect-target", e.push.Host)
	require.Equal(t, 0, r.code, r.stderr)
	var report struct {
		Checks []struct {
			Name, Verdict, Checked, Cause string
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &report), r.stdout)
	var names []string
	for _, c := range report.Checks {
		names = append(names, c.Name)
		assert.Equal(t, "ok", c.Verdict, "%s: %s %s", c.Name, c.Checked, c.Cause)
	}
	joined := strings.Join(names, "\n")
	for _, want := range []string{"spec", "lock", "mirror " + e.mirror.URL, "mirror-images " + e.mirror.URL,
		"proxy " + e.proxy.URL, "no_proxy", "builder local", "platforms", "builder-config local", "clock"} {
		assert.Contains(t, joined, want, "doctor runs the %q check", want)
	}
}
