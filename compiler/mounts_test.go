package compiler

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mountSpec is a one-component spec in a temp dir whose Dockerfile is dockerfile.
func mountSpec(t *testing.T, dockerfile string) *spec.Spec {
	t.Helper()
	dir := t.TempDir()
	ctx := filepath.Join(dir, "web")
	require.NoError(t, os.MkdirAll(ctx, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(ctx, "Dockerfile"), []byte(dockerfile), 0o644))
	return &spec.Spec{
		Dir:       dir,
		Platforms: []string{"linux/amd64"},
		Secrets:   []spec.Secret{{ID: "npm_token", Env: "NPM_TOKEN"}, {ID: "tok", File: filepath.Join(dir, "tok.txt")}},
		SSH:       []spec.SSH{{ID: "default"}, {ID: "git"}},
		Components: []spec.Component{{
			Name: "web", Context: ctx, Dockerfile: filepath.Join(ctx, "Dockerfile"),
			Platforms: []string{"linux/amd64"}, Output: spec.OutputCacheOnly,
		}},
	}
}

func compileMounts(t *testing.T, s *spec.Spec) (*Plan, error) {
	t.Helper()
	return Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
}

func TestMissingMountsAreErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		dockerfile string
		secrets    []string
		ssh        []string
		undeclared bool     // the spec has no secret or ssh blocks at all
		want       []string // in the error; none: compiles
	}{
		{
			name:       "secret not listed",
			dockerfile: "FROM alpine:3.20\n# fetch\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n",
			want: []string{
				`web/Dockerfile:3 (RUN --mount=type=secret,id=tok cat /run/secrets/tok) needs secret "tok"`,
				`component web does not provide it: add secrets = ["tok"] to the component, or mark the mount required=false`,
			},
		},
		{
			name:       "secret not declared",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n",
			undeclared: true,
			want:       []string{`web/Dockerfile:2 `, `add secrets = ["tok"] to the component and a block secret "tok" { env = "NAME" } (or file = "path")`},
		},
		{
			name:       "required=true",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=tok,required=true cat /run/secrets/tok\n",
			secrets:    []string{"npm_token"},
			want:       []string{`web/Dockerfile:2 `, `needs secret "tok"`},
		},
		{
			name:       "id from target",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,target=/root/.npmrc cat /root/.npmrc\n",
			want:       []string{`needs secret ".npmrc"`},
		},
		{
			name:       "as env",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=npm_token,env=NPM_TOKEN test -n \"$NPM_TOKEN\"\n",
			want:       []string{`web/Dockerfile:2 `, `needs secret "npm_token" (as $NPM_TOKEN)`, `add secrets = ["npm_token"]`},
		},
		{
			name:       "continued line",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=tok \\\n    cat /run/secrets/tok\n",
			want:       []string{`web/Dockerfile:2 (RUN --mount=type=secret,id=tok \) needs secret "tok"`},
		},
		{
			name:       "several at once",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=tok true\nRUN --mount=type=ssh,id=git true\n",
			want:       []string{`web/Dockerfile:2 `, `web/Dockerfile:3 `, `needs ssh "git"`},
		},
		{
			name:       "ssh not listed",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=ssh ssh-add -l\n",
			want:       []string{`web/Dockerfile:2 (RUN --mount=type=ssh ssh-add -l) needs ssh "default"`, `add ssh = ["default"] to the component, or mark`},
		},
		{
			name:       "ssh not declared",
			dockerfile: "FROM alpine:3.20\nRUN --mount=type=ssh,id=git,required git ls-remote\n",
			undeclared: true,
			want:       []string{`needs ssh "git"`, `add ssh = ["git"] to the component and a block ssh "git" {}`},
		},
		{name: "secret provided", dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n", secrets: []string{"tok"}},
		{name: "env secret provided", dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=npm_token,env=T true\n", secrets: []string{"npm_token", "tok"}},
		{name: "ssh provided", dockerfile: "FROM alpine:3.20\nRUN --mount=type=ssh true\nRUN --mount=type=ssh,id=git true\n", ssh: []string{"git", "default"}},
		{name: "optional secret", dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=tok,required=false cat /run/secrets/tok || true\n"},
		{name: "optional secret as env", dockerfile: "FROM alpine:3.20\nRUN --mount=type=secret,id=tok,env=TOK,required=false true\n"},
		{name: "optional ssh", dockerfile: "FROM alpine:3.20\nRUN --mount=type=ssh,required=false true\n", undeclared: true},
		{name: "optional with variable id", dockerfile: "FROM alpine:3.20\nARG ID=tok\nRUN --mount=type=secret,id=$ID,required=false true\n"},
		{name: "no mounts", dockerfile: "FROM alpine:3.20\nRUN true\n", undeclared: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := mountSpec(t, tc.dockerfile)
			s.Components[0].Secrets, s.Components[0].SSH = tc.secrets, tc.ssh
			if tc.undeclared {
				s.Secrets, s.SSH = nil, nil
			}
			plan, err := compileMounts(t, s)
			if len(tc.want) == 0 {
				require.NoError(t, err)
				require.Len(t, plan.Builds, 1)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, ErrMissingMount), "%v", err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// A mount that does not say `required` is optional in the LLB, like required=false; only
// the Dockerfile's text tells them apart.
func TestExplicitlyOptional(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		text string
		need mountNeed
		want bool
	}{
		{"RUN --mount=type=secret,id=tok,required=false true", mountNeed{kind: "secret", id: "tok"}, true},
		{"RUN --mount=type=secret,id=tok,required=0 true", mountNeed{kind: "secret", id: "tok"}, true},
		{"RUN --mount=type=secret,id=tok true", mountNeed{kind: "secret", id: "tok"}, false},
		{"RUN --mount=type=secret,id=tok,required true", mountNeed{kind: "secret", id: "tok"}, false},
		{"RUN --mount=type=secret,id=other,required=false --mount=type=secret,id=tok true", mountNeed{kind: "secret", id: "tok"}, false},
		{"RUN --mount=type=secret,src=tok,required=false true", mountNeed{kind: "secret", id: "tok"}, true},
		{"RUN --mount=type=secret,target=/run/x/tok,required=false true", mountNeed{kind: "secret", id: "tok"}, true},
		{"RUN --mount=type=ssh,required=false true", mountNeed{kind: "ssh", id: "default"}, true},
		{"RUN --mount=type=ssh,required=false true", mountNeed{kind: "secret", id: "default"}, false},
		{"RUN --mount=type=ssh,id=git,required=false \\\n  true", mountNeed{kind: "ssh", id: "git"}, true},
		{"RUN --mount=type=secret,id=tok,required=maybe true", mountNeed{kind: "secret", id: "tok"}, false},
		{"RUN true # --mount=type=secret,id=tok,required=false", mountNeed{kind: "secret", id: "tok"}, false},
	} {
		assert.Equal(t, tc.want, explicitlyOptional(tc.text, tc.need), "%q %+v", tc.text, tc.need)
	}
}

func TestPlanShowsSecretAndSSHIDsOnly(t *testing.T) {
	t.Parallel()
	s := mountSpec(t, "FROM alpine:3.20\nRUN --mount=type=secret,id=tok --mount=type=secret,id=npm_token --mount=type=ssh true\n")
	s.Components[0].Secrets, s.Components[0].SSH = []string{"tok", "npm_token"}, []string{"git", "default"}
	plan, err := compileMounts(t, s)
	require.NoError(t, err)
	b := plan.Builds[0]
	assert.Equal(t, map[string]string{"npm_token": SecretFromEnv, "tok": SecretFromFile}, b.Secrets)
	assert.Equal(t, []string{"default", "git"}, b.SSH)

	var text bytes.Buffer
	require.NoError(t, textView{}.Plan(&text, plan))
	assert.Contains(t, text.String(), "  secrets     npm_token (env), tok (file)\n")
	assert.Contains(t, text.String(), "  ssh         default, git\n")

	jb := plan.JSON(nil).Builds[0]
	assert.Equal(t, map[string]string{"npm_token": "env", "tok": "file"}, jb.Secrets)
	assert.Equal(t, []string{"default", "git"}, jb.SSH)

	// a component without secrets shows neither line, and JSON leaves the keys out.
	s = mountSpec(t, "FROM alpine:3.20\nRUN true\n")
	plan, err = compileMounts(t, s)
	require.NoError(t, err)
	text.Reset()
	require.NoError(t, textView{}.Plan(&text, plan))
	assert.NotContains(t, text.String(), "secrets")
	assert.NotContains(t, text.String(), "ssh")
	var js bytes.Buffer
	require.NoError(t, jsonView{}.Plan(&js, plan))
	assert.NotContains(t, js.String(), `"secrets"`)
	assert.NotContains(t, js.String(), `"ssh"`)
}
