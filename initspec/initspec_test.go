package initspec

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/init/golden")

const testdata = "../testdata/init"

// secret is the proxy password in the fixtures: it must never reach the spec or the report.
const secret = "s3cr3t-pw"

// repo copies the fixture repository into a temp dir named "repo" (its name names the root
// component) and adds a .git directory with a Dockerfile in it, which git cannot hold.
func repo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo")
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(testdata, "repo"))))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, ".git", "x"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".git", "x", "Dockerfile"), []byte("FROM scratch\n"), 0o644))
	return dir
}

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	if content == "" {
		return filepath.Join(dir, name) // does not exist: skipped
	}
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(testdata, "golden", name)
	if *update {
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), string(got))
}

func reportText(r *Result) string {
	var b strings.Builder
	for _, n := range r.Report {
		b.WriteString(n.String() + "\n")
	}
	return b.String()
}

func TestGenerateFromSettings(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, daemon, config string
		env                  []string
		platforms            []string
		wantProxyFrom        string // the report line that says where the proxy came from
		wantNotUsed          []string
		wantVars             []string
	}{
		{name: "nothing"},
		{
			name:          "daemon",
			daemon:        `{"registry-mirrors": ["https://mirror.example.net/", "mirror2.example.net"], "insecure-registries": ["10.0.0.0/8"], "proxies": {"http-proxy": "http://bob:` + secret + `@proxy.corp:3128", "https-proxy": "http://bob:` + secret + `@proxy.corp:3128", "no-proxy": "localhost, .corp"}}`,
			config:        `{"proxies": {"default": {"httpsProxy": "http://cfg.corp:8080"}}}`,
			env:           []string{"HTTPS_PROXY=http://env:" + secret + "@env.corp:1"},
			wantProxyFrom: "daemon.json proxies",
			wantNotUsed:   []string{"config.json proxies.default", "the environment"},
			wantVars:      []string{"PROXY_CREDENTIALS"},
		},
		{
			name:          "config",
			daemon:        `{"registry-mirrors": []}`,
			config:        `{"proxies": {"default": {"httpProxy": "http://alice:` + secret + `@cfg.corp:8080", "httpsProxy": "http://carol:other-pw@cfg.corp:8443", "noProxy": "*.local,169.254.169.254"}}}`,
			env:           []string{"HTTP_PROXY=http://env.corp:1"},
			wantProxyFrom: "config.json proxies.default",
			wantNotUsed:   []string{"the environment"},
			wantVars:      []string{"PROXY_CREDENTIALS", "PROXY_CREDENTIALS_2"},
			platforms:     []string{"linux/amd64"},
		},
		{
			name:          "env",
			env:           []string{"https_proxy=env.corp:3128", "NO_PROXY=localhost,127.0.0.1"},
			wantProxyFrom: "the environment",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := repo(t)
			etc := t.TempDir()
			res, err := Generate(context.Background(), Options{Dir: dir, Platforms: tc.platforms,
				DaemonJSON: writeFile(t, etc, "daemon.json", tc.daemon), DockerConfig: writeFile(t, etc, "config.json", tc.config),
				Environ: tc.env})
			require.NoError(t, err)
			golden(t, "settings-"+tc.name+".hcl", res.Spec)
			report := reportText(res)
			assert.NotContains(t, string(res.Spec), secret)
			assert.NotContains(t, string(res.Spec), "other-pw")
			assert.NotContains(t, report, secret)
			if tc.wantProxyFrom != "" {
				assert.Regexp(t, `proxy https?_proxy \(from [^)]*`+tc.wantProxyFrom, report)
			}
			for _, n := range tc.wantNotUsed {
				assert.Regexp(t, `proxy \(from [^)]*`+n+`\): also set, not used`, report)
			}
			assert.Len(t, res.Placeholders, len(tc.wantVars))
			for _, v := range tc.wantVars {
				assert.Contains(t, string(res.Spec), `variable "`+v+`" {`)
			}
			s, diags, err := Validate(dir, "archbuild.hcl", res)
			require.NoError(t, err)
			require.False(t, diags.HasErrors(), diags.Error())
			var names []string
			for _, c := range s.Components {
				names = append(names, c.Name)
			}
			assert.ElementsMatch(t, []string{"services-api", "tools-api", "web", "web-prod", "worker"}, names)
			if tc.wantProxyFrom != "" {
				require.NotNil(t, s.Proxy)
			}
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			for _, e := range entries {
				assert.False(t, strings.HasPrefix(e.Name(), ".archbuild-init"), "the validation copy is removed")
			}
		})
	}
}

func TestGenerateBadSettings(t *testing.T) {
	t.Parallel()
	etc := t.TempDir()
	_, err := Generate(context.Background(), Options{Dir: repo(t), DaemonJSON: writeFile(t, etc, "daemon.json", `{"proxies": "http://bob:`+secret+`@x"`)})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "parse "+filepath.Join(etc, "daemon.json"))
	assert.NotContains(t, err.Error(), secret)
}

func TestGenerateFromBake(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(testdata, "bake")
	res, err := Generate(context.Background(), Options{Dir: dir, FromBake: filepath.Join(dir, "docker-bake.hcl")})
	require.NoError(t, err)
	golden(t, "bake.hcl", res.Spec)
	report := reportText(res)
	assert.Contains(t, report, `component "app" (from docker-bake.hcl target "app"): not carried over: contexts.src (https://...), output, secret, inherits`)
	assert.Contains(t, report, `bake group "default"`)
	s, diags, err := Validate(dir, "archbuild.hcl", res)
	require.NoError(t, err)
	require.False(t, diags.HasErrors(), diags.Error())
	require.Len(t, s.Components, 2)
	app := s.Components[1]
	assert.Equal(t, "app", app.Name)
	assert.Equal(t, []string{"base"}, app.DependsOn, "contexts target:base became component.base")
	assert.Equal(t, []string{"registry.example.com/app:dev", "registry.example.com/app:latest"}, app.Tags)
	assert.Equal(t, "dev", app.Args["VERSION"])
	assert.Equal(t, filepath.Join(app.Context, "app.Dockerfile"), app.Dockerfile)
}

// TestGenerateFromBakeBounded: a bake file gets the bounds of every spec read (nesting,
// binary data) before HCL parses it, and is refused naming where.
func TestGenerateFromBakeBounded(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct{ src, want string }{
		"nesting": {"target \"a\" {\n  args = " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n}\n", "Nesting too deep"},
		"binary":  {"target \"a\" {}\n\x00\x01", "not a text file (binary data at byte 14"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "docker-bake.hcl")
			require.NoError(t, os.WriteFile(path, []byte(tc.src), 0o644))
			_, err := Generate(context.Background(), Options{Dir: dir, FromBake: path})
			require.Error(t, err)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestComponentNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   []found
		want []string
	}{
		{[]found{{Context: "."}}, []string{"my-repo"}},
		{[]found{{Context: "a/api"}, {Context: "b/api"}}, []string{"a-api", "b-api"}},
		{[]found{{Context: "x", Dockerfile: "Dockerfile.prod"}, {Context: "x", Dockerfile: "dev.Dockerfile"}}, []string{"x-prod", "x-dev"}},
		{[]found{{Context: "1st"}, {Context: "Web App"}}, []string{"c-1st", "web-app"}},
		{[]found{{Context: "x/a-b"}, {Context: "a-b"}}, []string{"x-a-b", "a-b"}},
		{[]found{{Context: "a/b/c"}, {Context: "a-b/c"}}, []string{"a-b-c", "a-b-c-2"}},
		{[]found{{Context: "worker", Dockerfile: "worker.Dockerfile"}}, []string{"worker"}},
	} {
		nameComponents(tc.in, "My Repo")
		var got []string
		for _, f := range tc.in {
			got = append(got, f.Name)
		}
		assert.Equal(t, tc.want, got)
	}
}

func TestEnvProxy(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		env        []string
		name, attr string
	}{
		{nil, "", ""},
		{[]string{"NO_PROXY=x"}, "", ""},
		{[]string{"http_proxy=bob:" + secret + "@p:1"}, "http_proxy", `http_proxy = "http://xxxxx@p:1"`},
		{[]string{"HTTP_PROXY=http://a:1", "HTTPS_PROXY=http://b:2"}, "HTTPS_PROXY", `https_proxy = "http://b:2"`},
		{[]string{"https_proxy=http://lower:1", "HTTPS_PROXY=http://upper:2"}, "HTTPS_PROXY", `https_proxy = "http://upper:2"`},
		{[]string{"HTTPS_PROXY=", "https_proxy=http://lower:1"}, "https_proxy", `https_proxy = "http://lower:1"`},
	} {
		name, attr, ok := EnvProxy(tc.env)
		assert.Equal(t, tc.name != "", ok)
		assert.Equal(t, tc.name, name)
		assert.Equal(t, tc.attr, attr)
	}
}

// TestEnvProxySettings: the candidate proxy from the environment follows the same rule as
// EnvProxy (upper case first, an empty value is unset).
func TestEnvProxySettings(t *testing.T) {
	t.Parallel()
	got := envProxy([]string{"http_proxy=http://lower:1", "HTTP_PROXY=http://upper:2", "HTTPS_PROXY=",
		"https_proxy=http://s:3", "all_proxy=socks5://a:4", "NO_PROXY=localhost", "no_proxy=other"})
	assert.Equal(t, proxySettings{Source: "the environment", HTTP: "http://upper:2", HTTPS: "http://s:3",
		All: "socks5://a:4", NoProxy: "localhost"}, got)
}
