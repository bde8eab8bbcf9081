package doctor

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWriteTextEscapesInput: a mirror's URL and a registry's error body cannot drive the
// reader's terminal; archc's own colours still work.
func TestWriteTextEscapesInput(t *testing.T) {
	t.Parallel()
	r := &Report{Findings: []Finding{{
		Name: "mirror http://m.test/\x1b]0;owned\a", Verdict: Fail, Checked: "GET /v2/\x1b[2J",
		Cause: "401: \x1b[8mhidden\x1b[0m\nsecond line\u009b", Fix: "log in\u202e",
	}}}
	var b bytes.Buffer
	require.NoError(t, WriteText(&b, r, TextOptions{Color: true}))
	got := b.String()
	assert.True(t, strings.HasPrefix(got, "\x1b[31m✗\x1b[0m mirror http://m.test/\\x1b]0;owned\\x07  GET /v2/\\x1b[2J ("), got)
	assert.Equal(t, 2, strings.Count(got, "\x1b"), "only archc's own colour and reset: %q", got)
	assert.NotContains(t, got, "\a")
	assert.NotContains(t, got, "\u202e")
	assert.Contains(t, got, "    cause: 401: \\x1b[8mhidden\\x1b[0m\n           second line\\u009b\n", "a cause keeps its lines")
	assert.Contains(t, got, `    fix:   log in\u202e`)
}
