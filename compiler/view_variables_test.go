package compiler

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestViewVariables: the text and JSON headers list the variables with their sources,
// sensitive ones masked (also where a sensitive value reached a plain variable), and a
// view without WithVariables prints none.
func TestViewVariables(t *testing.T) {
	t.Parallel()
	vars := []spec.Variable{
		{Name: "TAG", Value: "1.0", Source: spec.SourceEnv},
		{Name: "TOKEN", Value: "(sensitive)", Source: spec.SourceFlag, Sensitive: true},
		{Name: "URL", Value: "https://host/t0ps3cret", Source: spec.SourceDefault},
	}
	scrub := Scrub(replaceSecret)
	p := &Plan{BuildPlatform: "linux/amd64"}

	text, err := NewView("text", scrub)
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, WithVariables(text, vars).Plan(&out, p))
	assert.Contains(t, out.String(), "Build platform: linux/amd64\n"+
		"Variable: TAG = 1.0 (env)\nVariable: TOKEN = (sensitive) (flag)\nVariable: URL = https://host/*** (default)\n")
	assert.NotContains(t, out.String(), "t0ps3cret")

	js, err := NewView("json", scrub)
	require.NoError(t, err)
	out.Reset()
	require.NoError(t, WithVariables(js, vars).Plan(&out, p))
	var jp JSONPlan
	require.NoError(t, json.Unmarshal(out.Bytes(), &jp))
	assert.Equal(t, []PlanVariable{
		{Name: "TAG", Value: "1.0", Source: "env"},
		{Name: "TOKEN", Value: "(sensitive)", Source: "flag", Sensitive: true},
		{Name: "URL", Value: "https://host/***", Source: "default"},
	}, jp.Variables)

	out.Reset()
	require.NoError(t, text.Plan(&out, p))
	assert.NotContains(t, out.String(), "Variable:")
	dot, err := NewView("dot", scrub)
	require.NoError(t, err)
	assert.Equal(t, dot, WithVariables(dot, vars), "views without a header ignore them")
}

func replaceSecret(s string) string {
	return string(bytes.ReplaceAll([]byte(s), []byte("t0ps3cret"), []byte("***")))
}
