package compiler

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLockLocatesBaseErrors: `archc lock` reports bases no host serves as plan does,
// located in each component's Dockerfile, every component at once, each ref once (also
// when several build platforms compile the same FROM), and writes no lock.
func TestLockLocatesBaseErrors(t *testing.T) {
	t.Parallel()
	base := loopbackBase(t)
	host, _, _ := strings.Cut(base, "/")
	for _, tc := range []struct {
		name           string
		buildPlatforms []string
	}{
		{"one build platform", nil},
		{"two build platforms", []string{"linux/amd64", "linux/arm64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := oneComponent(t, "# comment\nFROM "+host+"/library/busybox:9.99\nRUN true\n", spec.Component{})
			s.BuildPlatforms = tc.buildPlatforms
			web := s.Components[0]
			web.Name = "web"
			web.Dockerfile = filepath.Join(s.Dir, "web.Dockerfile")
			require.NoError(t, os.WriteFile(web.Dockerfile, []byte("ARG V=1\nFROM "+base+" AS ok\nFROM --platform=$BUILDPLATFORM "+host+"/library/nosuch:${V}\n"), 0o644))
			s.Components = append(s.Components, web)
			res := resolverFor(t, s, t.TempDir())

			_, _, _, err := Lock(context.Background(), s, res, registry.LockOptions{}, WithBuildPlatform("linux/amd64"))
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, `component "app": Dockerfile:2: `+host+`/library/busybox:9.99: `)
			assert.Contains(t, msg, `component "web": web.Dockerfile:3: `+host+`/library/nosuch:1: `)
			assert.Equal(t, 1, strings.Count(msg, "busybox:9.99: "), msg)
			assert.Equal(t, 1, strings.Count(msg, "nosuch:1: "), msg)
			assert.NotContains(t, msg, "busybox:1.36", "the base the registry has is no error")
			var be *BaseError
			require.ErrorAs(t, err, &be)
			assert.Contains(t, be.Hint(), "check the image name and tag")
			_, statErr := os.Stat(filepath.Join(s.Dir, registry.LockFileName))
			assert.True(t, os.IsNotExist(statErr), "a failed lock writes nothing")
		})
	}
}

// TestLockContextKeyTypo: lock catches a contexts key typo as plan does, before it asks a
// registry for the image the typo would pull (the resolver is nil: any use would panic).
func TestLockContextKeyTypo(t *testing.T) {
	t.Parallel()
	s := oneComponent(t, "FROM scratch\n", spec.Component{})
	web := s.Components[0]
	web.Name = "web"
	web.Dockerfile = filepath.Join(s.Dir, "web.Dockerfile")
	require.NoError(t, os.WriteFile(web.Dockerfile, []byte("FROM scratch\nCOPY --from=app / /\n"), 0o644))
	web.Contexts = []spec.NamedContext{{Name: "appp", Component: "app"}}
	s.Components = append(s.Components, web)

	_, _, _, err := Lock(context.Background(), s, nil, registry.LockOptions{}, WithBuildPlatform("linux/amd64"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `component "web": contexts key "appp" (component.app) matches no FROM or --from of web.Dockerfile, which asks for "app": did you mean contexts = { app = ... }?`)
}

// TestLocateBaseErrorsKeepsOthers: the errors joined with unresolvable bases that are not
// resolution errors are kept, after the located ones; an error with none is as it was.
func TestLocateBaseErrorsKeepsOthers(t *testing.T) {
	t.Parallel()
	re := &registry.ResolveError{Ref: "docker.io/library/nosuch:1"}
	other := errors.New("docker.io/library/alpine:3.20: config digest does not match the pin")
	plan := &Plan{Builds: []Build{{Component: "app", Dockerfile: "Dockerfile",
		Bases: []Base{{Ref: re.Ref}}}}}

	err := locateBaseErrors(errors.Join(other, errors.Join(fmtWrap(re))), plan, nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, other)
	var be *BaseError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, []string{`component "app": Dockerfile`}, be.Where)
	assert.True(t, strings.HasPrefix(err.Error(), `component "app": Dockerfile: docker.io/library/nosuch:1`), err.Error())
	assert.True(t, strings.HasSuffix(err.Error(), other.Error()), err.Error())

	assert.Same(t, other, locateBaseErrors(other, plan, nil))
}

// fmtWrap wraps err as the lock policy does with the ref it was pinning.
func fmtWrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "pin: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
