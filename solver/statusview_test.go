package solver

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type hintedTestError struct{ error }

func (hintedTestError) Hint() string { return "check the address" }

func TestStatusViews(t *testing.T) {
	t.Parallel()
	yes := true
	sts := []Status{
		{Name: "local", Local: true, Address: "unix:///s/buildkitd.sock", Running: true, PID: 42, Version: "v0.26.0",
			Platforms: []string{"linux/amd64"}, ConfigMatches: &yes},
		{Name: "idle", Local: true, Address: "unix:///s/idle.sock"},
		{Name: "arm-1", Address: "tcp://127.0.0.1:1", Err: fmt.Errorf("builder %q: %w", "arm-1", hintedTestError{errors.New("connection refused")})},
	}

	text, err := NewStatusView("text")
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, text.Status(&b, sts))
	assert.Equal(t, `builder local (local)
  address:   unix:///s/buildkitd.sock
  state:     running (pid 42)
  version:   buildkit v0.26.0
  platforms: linux/amd64
  config:    matches the spec
builder idle (local)
  address:   unix:///s/idle.sock
  state:     not running (`+"`archc builder up` or `archc apply`"+` starts it)
builder arm-1 (remote)
  address:   tcp://127.0.0.1:1
  state:     unreachable: builder "arm-1": connection refused
  hint:      check the address
`, b.String())

	js, err := NewStatusView("json")
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, js.Status(&b, sts))
	var got struct {
		FormatVersion int `json:"format_version"`
		Builders      []struct {
			Name, Kind, Address, State, Version, Error, Hint string
			PID                                              int
			Platforms                                        []string
			ConfigMatches                                    *bool `json:"config_matches"`
		} `json:"builders"`
		ExitCode int `json:"exit_code"`
	}
	require.NoError(t, json.Unmarshal([]byte(b.String()), &got), b.String())
	assert.Equal(t, StatusJSONFormatVersion, got.FormatVersion)
	assert.Equal(t, 1, got.ExitCode, "a builder failed")
	require.Len(t, got.Builders, 3)
	assert.Equal(t, "running", got.Builders[0].State)
	assert.Equal(t, 42, got.Builders[0].PID)
	require.NotNil(t, got.Builders[0].ConfigMatches)
	assert.True(t, *got.Builders[0].ConfigMatches)
	assert.Equal(t, "not running", got.Builders[1].State)
	assert.Nil(t, got.Builders[1].ConfigMatches)
	assert.Equal(t, "remote", got.Builders[2].Kind)
	assert.Equal(t, "unreachable", got.Builders[2].State)
	assert.Equal(t, `builder "arm-1": connection refused`, got.Builders[2].Error)
	assert.Equal(t, "check the address", got.Builders[2].Hint)
}

// TestStatusTextViewEscapes: what a daemon answers (its version, its error) and the
// spec's address are shown escaped on their line, credentials hidden.
func TestStatusTextViewEscapes(t *testing.T) {
	t.Parallel()
	sts := []Status{
		{Name: "a", Address: "tcp://u:pw@127.0.0.1:1\x1b[2J", Running: true, Version: "v1\x1b]0;owned\a",
			Platforms: []string{"linux/amd64\nstate: fake"}, Err: errors.New("info: \x1b[31mno\nmore")},
	}
	text, err := NewStatusView("text")
	require.NoError(t, err)
	var b strings.Builder
	require.NoError(t, text.Status(&b, sts))
	assert.Equal(t, `builder a (remote)
  address:   tcp://u:pw@127.0.0.1:1\x1b[2J
  state:     running
  version:   buildkit v1\x1b]0;owned\x07
  platforms: linux/amd64\nstate: fake
  error:     info: \x1b[31mno\nmore
`, b.String())
}
