package registry

import (
	"errors"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLockTextViewEscapes: a tag or a registry's error body holding terminal escapes or
// newlines is shown escaped, on its change's one line.
func TestLockTextViewEscapes(t *testing.T) {
	t.Parallel()
	d := digest.FromString("one")
	r := LockReport{File: "lock\x1b[2J.hcl", Images: 1, Changes: []LockChange{
		{Ref: "reg/app:\x1b]0;owned\a", Kind: ChangeMoved, Old: d, New: d},
		{Ref: "reg/b:1", Kind: ChangeUnchecked, Old: d, Err: errors.New("403 body: \x1b[31mdenied\n+ reg/evil:1 sha256:0")},
	}}
	text, err := NewLockView("text")
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, text.Lock(&b, r))
	got := b.String()
	assert.NotContains(t, got, "\x1b")
	assert.NotContains(t, got, "\a")
	assert.Equal(t, 3, strings.Count(got, "\n"), "one line per change, then the summary: %q", got)
	assert.Contains(t, got, `! reg/app:\x1b]0;owned\x07: tag now points to`)
	assert.Contains(t, got, `(move it: archc lock --update --image reg/app:\x1b]0;owned\x07)`)
	assert.Contains(t, got, `could not check the tag: 403 body: \x1b[31mdenied\n+ reg/evil:1 sha256:0`+"\n")
	assert.Contains(t, got, `Wrote lock\x1b[2J.hcl: 1 images.`)
}
