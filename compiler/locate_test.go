package compiler

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCompileReportsEveryComponent: one bad component does not hide another's problem;
// each is located and reported once, though both platforms failed alike.
func TestCompileReportsEveryComponent(t *testing.T) {
	t.Parallel()
	s := oneComponent(t, "FROM alpine\nFRM x\n", spec.Component{})
	web := s.Components[0]
	web.Name, web.Target = "web", "runtme"
	web.Dockerfile = filepath.Join(s.Dir, "web.Dockerfile")
	require.NoError(t, os.WriteFile(web.Dockerfile, []byte("FROM alpine AS build\nFROM alpine AS runtime\n"), 0o644))
	ok := s.Components[0]
	ok.Name, ok.Dockerfile = "ok", filepath.Join(s.Dir, "ok.Dockerfile")
	require.NoError(t, os.WriteFile(ok.Dockerfile, []byte("FROM alpine\n"), 0o644))
	s.Components = append(s.Components, web, ok)

	_, _, err := DiscoverBases(context.Background(), s, WithBuildPlatform("linux/amd64"))
	require.Error(t, err)
	msg := err.Error()
	assert.Contains(t, msg, "app/linux/")
	assert.Contains(t, msg, "Dockerfile:2: dockerfile parse error on line 2: unknown instruction: FRM (did you mean FROM?)")
	assert.Contains(t, msg, `web/linux/`)
	assert.Contains(t, msg, `web.Dockerfile: target stage "runtme" could not be found: the Dockerfile's stages are build, runtime`)
	assert.Equal(t, 1, strings.Count(msg, "unknown instruction: FRM"), msg)
	assert.Equal(t, 1, strings.Count(msg, "runtme"), msg)
	assert.NotContains(t, msg, "ok/")
}

// TestContextKeyTypo: a contexts key that matches no FROM or --from, next to a bare name
// the Dockerfile asks for, is named with the likely intended key before anything is pulled.
func TestContextKeyTypo(t *testing.T) {
	t.Parallel()
	s := oneComponent(t, "FROM alpine\nRUN true\n", spec.Component{})
	web := s.Components[0]
	web.Name = "web"
	web.Dockerfile = filepath.Join(s.Dir, "web.Dockerfile")
	require.NoError(t, os.WriteFile(web.Dockerfile, []byte("FROM alpine\nCOPY --from=app / /\n"), 0o644))
	web.Contexts = []spec.NamedContext{{Name: "appp", Component: "app"}}
	s.Components = append(s.Components, web)
	_, plan, err := DiscoverBases(context.Background(), s, WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	err = checkContextKeys(s, plan)
	require.Error(t, err)
	assert.Equal(t, `component "web": contexts key "appp" (component.app) matches no FROM or --from of web.Dockerfile, which asks for "app": did you mean contexts = { app = ... }? (otherwise "app" is pulled as the image docker.io/library/app:latest)`, err.Error())

	s.Components[1].Contexts[0].Name = "app"
	_, plan, err = DiscoverBases(context.Background(), s, WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	assert.NoError(t, checkContextKeys(s, plan))
}
