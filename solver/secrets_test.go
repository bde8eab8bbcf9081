package solver

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

const testSecretValue = "s3cr3t-v4lue-never-shown"

// secretsFixture is a spec with an env and a file secret and two ssh blocks, a plan whose
// web builds list tok and npm and whose api build lists npm only, and a lookup.
func secretsFixture(t *testing.T) (*spec.Spec, *compiler.Plan, []*Job, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "tok.txt")
	require.NoError(t, os.WriteFile(file, []byte(testSecretValue+"-file\n"), 0o600))
	s := &spec.Spec{
		Dir:     dir,
		Secrets: []spec.Secret{{ID: "npm", Env: "NPM_TOKEN"}, {ID: "tok", File: file}},
		SSH:     []spec.SSH{{ID: "default"}},
	}
	p := &compiler.Plan{Builds: []compiler.Build{
		{ID: "web/linux/amd64", Component: "web", Secrets: map[string]string{"tok": "file", "npm": "env"}},
		{ID: "web/linux/arm64", Component: "web", Secrets: map[string]string{"tok": "file", "npm": "env"}},
		{ID: "api/linux/amd64", Component: "api", Secrets: map[string]string{"npm": "env"}},
		{ID: "plain/linux/amd64", Component: "plain"},
		{ID: "other/linux/amd64", Component: "other", Secrets: map[string]string{"tok": "file"}},
	}}
	jobs := []*Job{{Component: "web"}, {Component: "api"}, {Component: "plain"}} // other: not selected
	return s, p, jobs, map[string]string{"NPM_TOKEN": testSecretValue}
}

func lookupIn(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

// secretsServed asks a component's secrets session for id, as the daemon does.
func secretsServed(t *testing.T, atts []session.Attachable, id string) (string, error) {
	t.Helper()
	for _, a := range atts {
		if srv, ok := a.(secrets.SecretsServer); ok {
			resp, err := srv.GetSecret(context.Background(), &secrets.GetSecretRequest{ID: id})
			if err != nil {
				return "", err
			}
			return string(resp.Data), nil
		}
	}
	return "", secrets.ErrNotFound
}

func TestJobSecretsServeOnlyWhatAComponentLists(t *testing.T) {
	t.Parallel()
	s, p, jobs, env := secretsFixture(t)
	js, err := NewJobSecrets(s, p, jobs, lookupIn(env))
	require.NoError(t, err)

	v, err := secretsServed(t, js.Session("web"), "npm")
	require.NoError(t, err)
	assert.Equal(t, testSecretValue, v)
	v, err = secretsServed(t, js.Session("web"), "tok")
	require.NoError(t, err)
	assert.Equal(t, testSecretValue+"-file\n", v, "a file's bytes as they are")

	v, err = secretsServed(t, js.Session("api"), "npm")
	require.NoError(t, err)
	assert.Equal(t, testSecretValue, v)
	_, err = secretsServed(t, js.Session("api"), "tok")
	assert.Error(t, err, "api does not list tok: its session must not serve it")

	assert.Empty(t, js.Session("plain"), "a component without secrets gets no provider")
	assert.Empty(t, js.Session("other"), "a component outside the run is not served")
	assert.Empty(t, (*JobSecrets)(nil).Session("web"))

	// sessionFor: the run's attachables first, then the job's own, in a new slice.
	auth := &Auth{}
	o := RunOptions{Session: []session.Attachable{auth}, Secrets: js}
	got := o.sessionFor(&Job{Component: "web"})
	require.Len(t, got, 2)
	assert.Same(t, auth, got[0])
	assert.Len(t, o.Session, 1)
	assert.Len(t, RunOptions{Session: o.Session}.sessionFor(&Job{Component: "web"}), 1)
}

func TestJobSecretsSourceErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, s *spec.Spec, env map[string]string)
		want string
	}{
		{"env not set", func(_ *testing.T, _ *spec.Spec, env map[string]string) { delete(env, "NPM_TOKEN") },
			`secret "npm": environment variable NPM_TOKEN is not set`},
		{"env empty", func(_ *testing.T, _ *spec.Spec, env map[string]string) { env["NPM_TOKEN"] = "" },
			`secret "npm": environment variable NPM_TOKEN is empty`},
		{"file missing", func(_ *testing.T, s *spec.Spec, _ map[string]string) {
			s.Secrets[1].File = filepath.Join(s.Dir, "gone")
		},
			`secret "tok": read file `},
		{"file empty", func(t *testing.T, s *spec.Spec, _ map[string]string) {
			require.NoError(t, os.WriteFile(s.Secrets[1].File, nil, 0o600))
		}, `secret "tok": file ` + "%DIR%/tok.txt is empty"},
		{"file a directory", func(_ *testing.T, s *spec.Spec, _ map[string]string) { s.Secrets[1].File = s.Dir },
			`not a regular file`},
		{"file too big", func(t *testing.T, s *spec.Spec, _ map[string]string) {
			require.NoError(t, os.WriteFile(s.Secrets[1].File, make([]byte, 600*1024), 0o600))
		}, `more than BuildKit's limit`},
		{"block missing", func(_ *testing.T, s *spec.Spec, _ map[string]string) { s.Secrets = s.Secrets[:1] },
			`secret "tok": the spec has no secret "tok" block`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, p, jobs, env := secretsFixture(t)
			tc.edit(t, s, env)
			_, err := NewJobSecrets(s, p, jobs, lookupIn(env))
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.ReplaceAll(tc.want, "%DIR%", s.Dir))
			assert.Contains(t, err.Error(), "component ")
			assert.NotContains(t, err.Error(), testSecretValue)
		})
	}
}

func TestJobSecretsMask(t *testing.T) {
	t.Parallel()
	s, p, jobs, env := secretsFixture(t)
	require.NoError(t, os.WriteFile(s.Secrets[1].File, []byte("-----BEGIN KEY-----\nline-one-of-key\nline-two-of-key\n-----END KEY-----\n"), 0o600))
	js, err := NewJobSecrets(s, p, jobs, lookupIn(env))
	require.NoError(t, err)
	mask := js.Mask(func(s string) string { return strings.ReplaceAll(s, "spec-sensitive", "(sensitive)") })
	for in, want := range map[string]string{
		"#5 0.1 " + testSecretValue + "\n":       "#5 0.1 (secret)\n",
		"value=" + testSecretValue + "-suffix":   "value=(secret)-suffix",
		"line-two-of-key":                        "(secret)",
		"a spec-sensitive value":                 "a (sensitive) value",
		"nothing to hide":                        "nothing to hide",
		"x" + testSecretValue[:10] + "y (short)": "x" + testSecretValue[:10] + "y (short)",
	} {
		assert.Equal(t, want, mask(in), in)
	}
	id := func(s string) string { return s }
	assert.Equal(t, "abc", (*JobSecrets)(nil).Mask(id)("abc"))
}

func TestSSHAgents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, key, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(t, err)
	block, err := ssh.MarshalPrivateKey(key, "")
	require.NoError(t, err)
	keyFile := filepath.Join(dir, "id_ed25519")
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(block), 0o600))
	badKey := filepath.Join(dir, "not-a-key")
	require.NoError(t, os.WriteFile(badKey, []byte("hello"), 0o600))

	live := filepath.Join(dir, "live.sock")
	l, err := net.Listen("unix", live)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { _ = agent.ServeAgent(agent.NewKeyring(), c); c.Close() }()
		}
	}()
	stale := filepath.Join(dir, "stale.sock")
	sl, err := net.Listen("unix", stale)
	require.NoError(t, err)
	sl.(*net.UnixListener).SetUnlinkOnClose(false)
	require.NoError(t, sl.Close())

	for _, tc := range []struct {
		name  string
		paths []string
		env   map[string]string
		want  string // error; "" for none
	}{
		{"agent at SSH_AUTH_SOCK", nil, map[string]string{"SSH_AUTH_SOCK": live}, ""},
		{"agent path", []string{live}, nil, ""},
		{"key file", []string{keyFile}, nil, ""},
		{"no SSH_AUTH_SOCK", nil, nil, `ssh "default": no agent: SSH_AUTH_SOCK is not set`},
		{"stale socket", nil, map[string]string{"SSH_AUTH_SOCK": stale}, `ssh "default": agent at ` + stale + ` does not answer`},
		{"missing path", []string{filepath.Join(dir, "gone")}, nil, `ssh "default": agent or key ` + filepath.Join(dir, "gone") + `: no such file`},
		{"not a key", []string{badKey}, nil, `failed to parse ` + badKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := &spec.Spec{SSH: []spec.SSH{{ID: "default", Paths: tc.paths}}}
			p := &compiler.Plan{Builds: []compiler.Build{{ID: "web/linux/amd64", Component: "web", SSH: []string{"default"}}}}
			js, err := NewJobSecrets(s, p, []*Job{{Component: "web"}}, lookupIn(tc.env))
			if tc.want == "" {
				require.NoError(t, err)
				assert.Len(t, js.Session("web"), 1)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), "component web: ")
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
