package e2e

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// secretsSpec is the secrets scenario's spec: an env secret, a file secret outside the
// project, the default ssh agent, a component using all three, one using none of them and
// one that prints a secret (only in the masking phase).
const secretsSpec = `
platforms = ["linux/amd64"]
registry "docker.io" {
  mirrors = ["%[1]s"]
}
registry "%[2]s" {
  http = true
}
secret "tok" { env = "ARCHC_E2E_TOK" }
secret "filetok" { file = "%[3]s" }
ssh "default" {}

component "sec" {
  context = "./sec"
  tags    = ["%[2]s/e2e/secrets:v1"]
  secrets = ["tok", "filetok"]
  ssh     = ["default"]
  args    = { WANT_TOK = "%[4]s", WANT_FILE = "%[5]s", WANT_KEY = "%[6]s" }
}

component "other" {
  context = "./other"
  tags    = ["%[2]s/e2e/secrets-other:v1"]
}
%[7]s`

const secretsDockerfile = `FROM busybox
ARG WANT_TOK
ARG WANT_FILE
ARG WANT_KEY
RUN --mount=type=secret,id=tok,required=true test "$(sha256sum < /run/secrets/tok | cut -d' ' -f1)" = "$WANT_TOK" && echo ok > /tok-ok
RUN --mount=type=secret,id=filetok,env=FILETOK,required=true test "$(printf %s "$FILETOK" | sha256sum | cut -d' ' -f1)" = "$WANT_FILE" && echo ok > /filetok-ok
RUN --mount=type=bind,source=agentcheck,target=/agentcheck --mount=type=ssh,required=true /agentcheck "$WANT_KEY" > /ssh-ok
`

// The other component mounts tok optionally: it does not list it, so it gets nothing.
const otherDockerfile = `FROM busybox
RUN --mount=type=secret,id=tok,required=false test ! -e /run/secrets/tok && echo none > /tok-absent
`

// testSecretsAndSSH: secrets from an env variable and a file and a real ssh-agent reach
// RUN steps (proved by hash, and by the agent signing with the key), a component gets only
// what it lists, missing sources and undeclared mounts fail up front, and the values
// appear nowhere: not in plan or apply output (plain and rawjson), the JSON plan, the plan
// file, the lock, archc's state and cache directories or any blob of the pushed images. A
// build that prints a secret shows "(secret)" instead.
func testSecretsAndSSH(t *testing.T, e *env, reg registryClient) {
	tok, fileTok := "archc-e2e-tok-"+randomHex(t), "archc-e2e-file-"+randomHex(t)
	secretDir := t.TempDir()
	secretFile := filepath.Join(secretDir, "filetok")
	require.NoError(t, os.WriteFile(secretFile, []byte(fileTok), 0o600))
	sock, fingerprint := startAgent(t)
	dir := t.TempDir()
	writeSecretsSpec := func(extra string) {
		write(t, dir, map[string]string{"archbuild.hcl": fmt.Sprintf(secretsSpec, e.mirror.URL, e.push.Host, secretFile,
			sha256Hex(tok), sha256Hex(fileTok), fingerprint, extra)})
	}
	writeSecretsSpec("")
	write(t, dir, map[string]string{"sec/Dockerfile": secretsDockerfile, "other/Dockerfile": otherDockerfile})
	buildAgentCheck(t, filepath.Join(dir, "sec", "agentcheck"))
	env := []string{"ARCHC_E2E_TOK=" + tok, "SSH_AUTH_SOCK=" + sock}
	var outputs []string // every stdout and stderr archc wrote

	t.Run("plan shows ids only", func(t *testing.T) {
		r := runWithEnv(t, e, dir, env, "plan", "--out", "secrets.plan")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "  secrets     filetok (file), tok (env)\n")
		assert.Contains(t, r.stdout, "  ssh         default\n")
		js := runWithEnv(t, e, dir, env, "plan", "--format", "json")
		require.Equal(t, 0, js.code, js.stderr)
		var p struct {
			Builds []struct {
				Component string            `json:"component"`
				Secrets   map[string]string `json:"secrets"`
				SSH       []string          `json:"ssh"`
			} `json:"builds"`
		}
		require.NoError(t, json.Unmarshal([]byte(js.stdout), &p))
		require.Len(t, p.Builds, 2)
		assert.Equal(t, map[string]string{"filetok": "file", "tok": "env"}, p.Builds[1].Secrets)
		assert.Equal(t, []string{"default"}, p.Builds[1].SSH)
		assert.Nil(t, p.Builds[0].Secrets, "other lists no secret")
		outputs = append(outputs, r.stdout, r.stderr, js.stdout, js.stderr)
	})

	t.Run("apply serves them", func(t *testing.T) {
		for _, mode := range []string{"plain", "rawjson"} {
			r := runWithEnv(t, e, dir, env, "apply", "--force", "--progress="+mode)
			require.Equal(t, 0, r.code, r.stderr)
			require.Contains(t, r.stdout+r.stderr, "timing: phase 1", "ARCHC_TIMING shows the phases")
			outputs = append(outputs, r.stdout, progressText(t, r.stderr))
		}
		sec := reg.image(t, "e2e/secrets", "v1").Manifests["linux/amd64"]
		for _, f := range []string{"tok-ok", "filetok-ok"} {
			got, err := reg.file(t, "e2e/secrets", sec, f)
			require.NoError(t, err, f)
			assert.Equal(t, "ok\n", got, f)
		}
		got, err := reg.file(t, "e2e/secrets", sec, "ssh-ok")
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("agent holds %s and signs with it (1 keys)\n", fingerprint), got)
		other := reg.image(t, "e2e/secrets-other", "v1").Manifests["linux/amd64"]
		got, err = reg.file(t, "e2e/secrets-other", other, "tok-absent")
		require.NoError(t, err, "a component that does not list tok must not get it")
		assert.Equal(t, "none\n", got)

		// the plan file applies too.
		r := runWithEnv(t, e, dir, env, "apply", "--progress=plain", "secrets.plan")
		require.Equal(t, 0, r.code, r.stderr)
		outputs = append(outputs, r.stdout, r.stderr)
	})

	t.Run("the values are nowhere", func(t *testing.T) {
		for _, v := range []string{tok, fileTok} {
			for i, out := range outputs {
				assert.NotContains(t, out, v, "archc output %d", i)
			}
			for _, root := range []string{dir, e.state, e.cache} {
				for _, f := range filesContaining(t, root, v) {
					t.Errorf("%s holds a secret value", f)
				}
			}
			for _, repo := range []string{"e2e/secrets", "e2e/secrets-other"} {
				for _, blob := range pushedBlobsContaining(t, reg, repo, "v1", v) {
					t.Errorf("%s: blob %s holds a secret value", repo, blob)
				}
			}
		}
	})

	t.Run("missing sources fail before any build", func(t *testing.T) {
		sshOnly := []string{"SSH_AUTH_SOCK=" + sock}
		for _, tc := range []struct {
			name string
			env  []string
			want string
		}{
			{"env unset", sshOnly, `secret "tok": environment variable ARCHC_E2E_TOK is not set`},
			{"env empty", append(sshOnly, "ARCHC_E2E_TOK="), `secret "tok": environment variable ARCHC_E2E_TOK is empty`},
			{"no agent", []string{"ARCHC_E2E_TOK=" + tok, "SSH_AUTH_SOCK="}, `ssh "default": no agent: SSH_AUTH_SOCK is not set`},
		} {
			r := runWithEnv(t, e, dir, tc.env, "apply", "--progress=plain")
			assert.NotEqual(t, 0, r.code, tc.name)
			assert.Contains(t, r.stderr, tc.want, tc.name)
			assert.NotContains(t, r.stdout+r.stderr, "timing: phase 1", "%s: apply went on", tc.name)
		}
		require.NoError(t, os.Rename(secretFile, secretFile+".gone"))
		r := runWithEnv(t, e, dir, env, "apply", "--force", "--progress=plain")
		require.NoError(t, os.Rename(secretFile+".gone", secretFile))
		assert.NotEqual(t, 0, r.code)
		assert.Contains(t, r.stderr, `secret "filetok": read file `+secretFile)
	})

	t.Run("an undeclared mount fails the plan at its line", func(t *testing.T) {
		bad := t.TempDir()
		write(t, bad, map[string]string{
			"archbuild.hcl":    fmt.Sprintf("platforms = [\"linux/amd64\"]\nregistry \"docker.io\" {\n  mirrors = [%q]\n}\ncomponent \"leaky\" {\n  context = \"./leaky\"\n}\n", e.mirror.URL),
			"leaky/Dockerfile": "FROM busybox\n\nRUN --mount=type=secret,id=tok cat /run/secrets/tok\n",
		})
		r := runWithEnv(t, e, bad, env, "plan")
		assert.NotEqual(t, 0, r.code)
		assert.Contains(t, r.stderr, `leaky/Dockerfile:3 (RUN --mount=type=secret,id=tok cat /run/secrets/tok) needs secret "tok"`)
		assert.Contains(t, r.stderr, `add secrets = ["tok"] to the component and a block secret "tok"`)
	})

	t.Run("a printed secret is masked", func(t *testing.T) {
		write(t, dir, map[string]string{"printer/Dockerfile": "FROM busybox\nARG NONCE\nRUN --mount=type=secret,id=tok,required=true echo \"$NONCE\" && cat /run/secrets/tok && echo\n"})
		for _, mode := range []string{"plain", "rawjson"} {
			// A new NONCE each time: the step runs, so it prints.
			writeSecretsSpec(`
component "printer" {
  context = "./printer"
  secrets = ["tok"]
  args    = { NONCE = "` + randomHex(t) + `" }
}
`)
			r := runWithEnv(t, e, dir, env, "apply", "--force", "--progress="+mode)
			require.Equal(t, 0, r.code, r.stderr)
			text := progressText(t, r.stderr)
			assert.NotContains(t, text+r.stdout, tok, mode)
			assert.Contains(t, text, "(secret)", "%s: the printed value is shown masked", mode)
		}
		// BuildKit keeps build history; report whether it kept the printed value.
		found := filesContaining(t, e.state, tok)
		t.Logf("after a build printed it, the secret is in %d files of the builder's state: %v", len(found), found)
	})
}

// runWithEnv is env.run with extra variables (later ones win).
func runWithEnv(t *testing.T, e *env, dir string, extra []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, e.bin, args...)
	cmd.Dir = dir
	cmd.Env = append(e.environ(), extra...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run archc %s: %v", strings.Join(args, " "), err)
	}
	t.Logf("archc %s: exit %d in %s\nstdout:\n%s\nstderr (tail):\n%s", strings.Join(args, " "), r.code, r.took.Round(time.Millisecond), tail(r.stdout, 30), tail(r.stderr, 30))
	return r
}

// progressText is stderr with rawjson lines decoded: log data is base64 in JSON, so a
// value would not show in the raw stream even unmasked.
func progressText(t *testing.T, stderr string) string {
	t.Helper()
	var sb strings.Builder
	sc := bufio.NewScanner(strings.NewReader(stderr))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		sb.WriteString(line + "\n")
		var st client.SolveStatus
		if !strings.HasPrefix(line, "{") || json.Unmarshal([]byte(line), &st) != nil {
			continue
		}
		for _, v := range st.Vertexes {
			sb.WriteString(v.Name + "\n" + v.Error + "\n")
		}
		for _, l := range st.Logs {
			sb.Write(l.Data)
		}
		for _, w := range st.Warnings {
			sb.Write(w.Short)
		}
	}
	return sb.String()
}

// filesContaining lists the regular files under root holding value, raw or in a gzip
// stream.
func filesContaining(t *testing.T, root, value string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // a file a running daemon removed
		}
		if !d.Type().IsRegular() {
			return nil
		}
		dt, err := os.ReadFile(p)
		if err == nil && (bytes.Contains(dt, []byte(value)) || bytes.Contains(unzipOrNil(dt), []byte(value))) {
			out = append(out, p)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

func unzipOrNil(dt []byte) []byte {
	zr, err := gzip.NewReader(bytes.NewReader(dt))
	if err != nil {
		return nil
	}
	out, _ := io.ReadAll(io.LimitReader(zr, 256<<20))
	return out
}

// pushedBlobsContaining fetches repo:ref's index, manifests, configs and layers (each
// layer decompressed, every file of its tar read) and names those holding value.
func pushedBlobsContaining(t *testing.T, reg registryClient, repo, ref, value string) []string {
	t.Helper()
	var out []string
	check := func(name string, dt []byte) {
		if bytes.Contains(dt, []byte(value)) {
			out = append(out, name)
		}
	}
	body, h := reg.get(t, "/v2/"+repo+"/manifests/"+ref)
	check("index "+h.Get("Docker-Content-Digest"), body)
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(body, &idx))
	manifests := [][]byte{body}
	for _, d := range idx.Manifests {
		mb, _ := reg.get(t, "/v2/"+repo+"/manifests/"+d.Digest.String())
		check("manifest "+d.Digest.String(), mb)
		manifests = append(manifests, mb)
	}
	blobs := 0
	for _, mb := range manifests {
		var m ocispecs.Manifest
		require.NoError(t, json.Unmarshal(mb, &m))
		if m.Config.Digest != "" {
			cb, _ := reg.get(t, "/v2/"+repo+"/blobs/"+m.Config.Digest.String())
			check("config "+m.Config.Digest.String(), cb)
			blobs++
		}
		for _, l := range m.Layers {
			lb, _ := reg.get(t, "/v2/"+repo+"/blobs/"+l.Digest.String())
			check("layer "+l.Digest.String(), lb)
			tr := tar.NewReader(bytes.NewReader(unzipOrNil(lb)))
			files := 0
			for {
				hdr, err := tr.Next()
				if err != nil {
					break
				}
				files++
				fb, _ := io.ReadAll(tr)
				check("layer "+l.Digest.String()+" file "+hdr.Name, append([]byte(hdr.Name+"\n"), fb...))
			}
			require.NotZero(t, files, "layer %s was read", l.Digest)
			blobs++
		}
	}
	require.NotZero(t, blobs, "%s:%s has blobs to search", repo, ref)
	return out
}

// startAgent runs a real ssh-agent on a socket of its own with one throwaway ed25519 key
// and returns the socket and the key's SHA256 fingerprint.
func startAgent(t *testing.T) (string, string) {
	t.Helper()
	for _, tool := range []string{"ssh-agent", "ssh-add", "ssh-keygen"} {
		_, err := exec.LookPath(tool)
		require.NoError(t, err, "%s: install openssh-client (scripts/setup.sh does)", tool)
	}
	dir, err := os.MkdirTemp("", "archc-agent-") // short: a unix socket path is limited
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	sock, key := filepath.Join(dir, "agent.sock"), filepath.Join(dir, "id_ed25519")
	agent := exec.Command("ssh-agent", "-D", "-a", sock)
	require.NoError(t, agent.Start())
	t.Cleanup(func() { _ = agent.Process.Kill(); _ = agent.Wait() })
	for i := 0; i < 100; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "archc-e2e", "-f", key).CombinedOutput()
	require.NoError(t, err, "%s", out)
	add := exec.Command("ssh-add", key)
	add.Env = append(os.Environ(), "SSH_AUTH_SOCK="+sock)
	out, err = add.CombinedOutput()
	require.NoError(t, err, "ssh-add: %s", out)
	out, err = exec.Command("ssh-keygen", "-l", "-E", "sha256", "-f", key+".pub").Output()
	require.NoError(t, err)
	fields := strings.Fields(string(out))
	require.GreaterOrEqual(t, len(fields), 2, "%s", out)
	return sock, fields[1]
}

// buildAgentCheck builds testdata/agentcheck, static, for the amd64 step that runs it.
func buildAgentCheck(t *testing.T, dst string) {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", dst, "./testdata/agentcheck")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "build agentcheck: %s", out)
}

func randomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 12)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return hex.EncodeToString(b)
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
