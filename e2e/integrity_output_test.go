package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const sensitiveSpec = `
variable "TOKEN" { sensitive = true }
platforms = ["linux/amd64"]
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
component "s" {
  context = "./s"
  args    = { TOKEN = var.TOKEN }
  tags    = ["%[2]s/sensitive/s:v1"]
}
`

// sensitiveToken is the sensitive variable's value; its pieces are looked for too.
const sensitiveToken = "tok-9f3c2a71e5"

// testSensitiveMasked: a sensitive variable used as a build arg reaches the build (its
// RUN writes it into the image, where build args end up anyway) but never the reader:
// BuildKit expands it in the step's name and the step prints it, and every progress mode
// shows "(sensitive)" instead, as does a failed step's error.
func testSensitiveMasked(t *testing.T, e *env, reg registryClient) {
	t.Setenv("ARCHC_VAR_TOKEN", sensitiveToken)
	dir := e.customProject(t, sensitiveSpec, map[string]string{})
	hidden := func(t *testing.T, r result) {
		t.Helper()
		for name, out := range map[string]string{"stdout": r.stdout, "stderr": r.stderr} {
			assert.NotContains(t, out, sensitiveToken, name)
			assert.NotContains(t, out, sensitiveToken[:9], "%s: no piece of it either", name)
		}
		assert.Contains(t, r.stdout, "TOKEN=(sensitive)", "the plan's args")
	}
	for _, mode := range []string{"plain", "rawjson"} {
		t.Run(mode, func(t *testing.T) {
			// A step of its own per mode: a cached step prints nothing.
			write(t, dir, map[string]string{"s/Dockerfile": "FROM busybox\nARG TOKEN\n" +
				"RUN echo \"$TOKEN\" > /t && echo \"token is $TOKEN\" && echo " + mode + "\n"})
			r := e.run(t, dir, "apply", "--progress="+mode)
			require.Equal(t, 0, r.code, r.stderr)
			hidden(t, r)
			logs := r.stderr
			if mode == "rawjson" {
				logs = rawjsonLogs(t, r.stderr) // base64 in the stream
				assert.NotContains(t, logs, sensitiveToken)
				assert.Contains(t, r.stderr, `RUN echo \"(sensitive)\" \u003e /t`, "the step's name, masked")
			} else {
				assert.Contains(t, r.stderr, `RUN echo "(sensitive)" > /t`, "the step's name, masked")
			}
			assert.Contains(t, logs, "token is (sensitive)\n", "the step's output, masked")
		})
	}
	t.Run("the build itself got the value", func(t *testing.T) {
		img := reg.image(t, "sensitive/s", "v1")
		m, ok := img.Manifests["linux/amd64"]
		require.True(t, ok)
		got, err := reg.file(t, "sensitive/s", m, "t")
		require.NoError(t, err)
		assert.Equal(t, sensitiveToken, strings.TrimSpace(got))
	})
	t.Run("a failed step's error", func(t *testing.T) {
		write(t, dir, map[string]string{"s/Dockerfile": "FROM busybox\nARG TOKEN\nRUN echo \"failing with $TOKEN\" && exit 3\n"})
		r := e.run(t, dir, "apply", "--progress=plain")
		require.Equal(t, 1, r.code, r.stderr)
		hidden(t, r)
		assert.Contains(t, r.stderr, "failing with (sensitive)", "the step's log, in the error")
	})
	t.Run("an error BuildKit writes with the value", func(t *testing.T) {
		// COPY expands build args in its sources; the daemon's error names the file.
		write(t, dir, map[string]string{"s/Dockerfile": "FROM busybox\nARG TOKEN\nCOPY missing-$TOKEN /x\n"})
		r := e.run(t, dir, "apply", "--progress=plain")
		require.Equal(t, 1, r.code, r.stderr)
		hidden(t, r)
		assert.Contains(t, r.stderr, "missing-(sensitive)")
	})
}

// rawjsonLogs returns the log text of a rawjson progress stream, decoded.
func rawjsonLogs(t *testing.T, stream string) string {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(stream, "\n") {
		var st client.SolveStatus
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &st) != nil {
			continue
		}
		for _, l := range st.Logs {
			b.Write(l.Data)
		}
	}
	return b.String()
}
