package compiler

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestMergeWarnings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   []string
		want []string
	}{
		{"one", []string{"api: app/Dockerfile:3: x (Rule)"}, []string{"api: app/Dockerfile:3: x (Rule)"}},
		{"shared Dockerfile, same line", []string{
			"api: app/Dockerfile:3: x (Rule)",
			"web: app/Dockerfile:3: x (Rule)",
			"worker: app/Dockerfile:3: x (Rule)",
		}, []string{"api, web, worker: app/Dockerfile:3: x (Rule)"}},
		{"other line or file stays apart", []string{
			"api: app/Dockerfile:3: x (Rule)",
			"web: app/Dockerfile:4: x (Rule)",
			"web: web/Dockerfile:3: x (Rule)",
		}, []string{"api: app/Dockerfile:3: x (Rule)", "web: app/Dockerfile:4: x (Rule)", "web: web/Dockerfile:3: x (Rule)"}},
		{"already merged is kept", []string{"api, web: app/Dockerfile:3: x (Rule)"}, []string{"api, web: app/Dockerfile:3: x (Rule)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, MergeWarnings(tc.in))
			assert.Equal(t, tc.want, MergeWarnings(MergeWarnings(tc.in)), "idempotent: the compile and the views may both merge")
		})
	}
}

func TestSyntaxWarning(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		df    string
		args  map[string]string
		warns bool
	}{
		{"no syntax line", "FROM alpine\n", nil, false},
		{"syntax line", "# syntax=docker/dockerfile:1.7\nFROM alpine\n", nil, true},
		{"upper case key", "# SYNTAX=docker/dockerfile:1.7\nFROM alpine\n", nil, true},
		{"after a BOM and a shebang", "\ufeff#!/usr/bin/env buildctl\n# Syntax = docker/dockerfile:1.7\nFROM alpine\n", nil, true},
		{"// comment", "//syntax=docker/dockerfile:1.7\nFROM alpine\n", nil, true},
		{"the word in a later comment is no directive", "FROM alpine\n# syntax=docker/dockerfile:1.7\n", nil, false},
		{"skipped by name", "# syntax=docker/dockerfile:1.7\n# check=skip=JSONArgsRecommended," + SyntaxRule + "\nFROM alpine\n", nil, false},
		{"skip all", "# syntax=docker/dockerfile:1.7\n# check=skip=all\nFROM alpine\n", nil, false},
		{"another rule skipped", "# syntax=docker/dockerfile:1.7\n# check=skip=JSONArgsRecommended\nFROM alpine\n", nil, true},
		{"build arg", "# syntax=docker/dockerfile:1.7\nFROM alpine\n", map[string]string{"BUILDKIT_DOCKERFILE_CHECK": "skip=" + SyntaxRule}, false},
		{"build arg wins over the directive, as in BuildKit", "# syntax=docker/dockerfile:1.7\n# check=skip=all\nFROM alpine\n",
			map[string]string{"BUILDKIT_DOCKERFILE_CHECK": "error=true"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := SyntaxWarning("app/Dockerfile", []byte(tc.df), tc.args)
			if !tc.warns {
				assert.Empty(t, w)
				return
			}
			assert.Contains(t, w, "app/Dockerfile asks for frontend docker/dockerfile:1.7 with `# syntax=`")
			assert.Contains(t, w, "# check=skip="+SyntaxRule, "the warning says how to silence it")
		})
	}
}
