package registry

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLockViews(t *testing.T) {
	t.Parallel()
	d1, d2 := digest.FromString("one"), digest.FromString("two")
	r := LockReport{File: LockFileName, Images: 3, Changes: []LockChange{
		{Ref: "a", Kind: ChangeAdded, New: d1},
		{Ref: "b", Kind: ChangeUpdated, Old: d1, New: d2},
		{Ref: "c", Kind: ChangeMoved, Old: d1, New: d2},
		{Ref: "d", Kind: ChangePlatforms, Old: d1, Platforms: []string{"linux/arm64"}},
		{Ref: "e", Kind: ChangeUnchecked, Old: d1, Err: errors.New("mirror https://u:p@m.test: timed out")},
		{Ref: "f", Kind: ChangeRemoved, Old: d1},
		{Ref: "g", Kind: ChangeKept, Old: d1},
	}}

	text, err := NewLockView("text")
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, text.Lock(&b, r))
	assert.Equal(t, "+ a "+d1.String()+"\n"+
		"~ b "+d1.String()+" -> "+d2.String()+"\n"+
		"! c: tag now points to "+d2.String()+"; kept the pin "+d1.String()+" (move it: archc lock --update --image c)\n"+
		"+ d "+d1.String()+": added platforms [linux/arm64]\n"+
		"? e: kept "+d1.String()+"; could not check the tag: mirror https://u:p@m.test: timed out\n"+
		"- f (no longer used)\n"+
		"  g "+d1.String()+"\n"+
		"Wrote archbuild.lock.hcl: 3 images.\n", b.String())

	js, err := NewLockView("json")
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, js.Lock(&b, r))
	var got struct {
		FormatVersion int    `json:"format_version"`
		File          string `json:"file"`
		Images        int    `json:"images"`
		Changes       []struct {
			Ref, Kind, Old, New, Error string
			Platforms                  []string
		} `json:"changes"`
	}
	require.NoError(t, json.Unmarshal([]byte(b.String()), &got), b.String())
	assert.Equal(t, LockJSONFormatVersion, got.FormatVersion)
	assert.Equal(t, LockFileName, got.File)
	assert.Equal(t, 3, got.Images)
	require.Len(t, got.Changes, 7)
	assert.Equal(t, "added", got.Changes[0].Kind)
	assert.Empty(t, got.Changes[0].Old)
	assert.Equal(t, d2.String(), got.Changes[2].New)
	assert.Equal(t, []string{"linux/arm64"}, got.Changes[3].Platforms)
	assert.NotContains(t, got.Changes[4].Error, "u:p@", "credentials redacted")
	assert.Contains(t, got.Changes[4].Error, "timed out")

	_, err = NewLockView("dot")
	assert.Error(t, err)
}
