package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustLoad(t *testing.T, opts LoadOptions) *Spec {
	t.Helper()
	s, diags := Load(opts)
	require.False(t, diags.HasErrors(), "%v", diagStrings(diags))
	require.NotNil(t, s)
	return s
}

func TestLoadFull(t *testing.T) {
	t.Parallel()
	s := mustLoad(t, LoadOptions{Files: []string{filepath.Join(testdata, "good", "full.hcl")}})
	abs, err := filepath.Abs(filepath.Join(testdata, "good"))
	require.NoError(t, err)
	assert.Equal(t, abs, s.Dir)
	assert.Equal(t, []string{"linux/amd64", "linux/arm/v7", "linux/arm64"}, s.Platforms, "normalized, from a typed variable")

	var names []string
	for _, c := range s.Components {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"export", "lib", "app", "load", "multi"}, names, "dependency order, ties by name")

	app := s.Component("app")
	require.NotNil(t, app)
	assert.Equal(t, filepath.Join(abs, "../ctx/app"), app.Context)
	assert.Equal(t, filepath.Join(abs, "../ctx/app/Dockerfile.alt"), app.Dockerfile, "dockerfile is relative to the context")
	assert.Equal(t, map[string]string{"VERSION": "1.2.3", "JOBS": "4"}, app.Args)
	assert.Equal(t, []string{"r.invalid:5000/team/app:1.2.3", "r.invalid:5000/team/app:latest"}, app.Tags)
	assert.Equal(t, OutputRegistry, app.Output, "default output with tags")
	assert.Equal(t, []string{"export", "lib"}, app.DependsOn, "from depends_on and contexts, sorted")
	assert.Equal(t, []string{"linux/amd64"}, app.Platforms)
	require.Len(t, app.Contexts, 3)
	assert.Equal(t, NamedContext{Name: "alpine", Image: "docker.io/library/busybox:1.36", Range: app.Contexts[0].Range}, app.Contexts[0])
	assert.Equal(t, filepath.Join(abs, "../ctx/lib"), app.Contexts[1].Path)
	assert.Equal(t, "lib", app.Contexts[2].Component)

	assert.Equal(t, OutputCacheOnly, s.Component("lib").Output)
	assert.Equal(t, s.Platforms, s.Component("lib").Platforms, "top-level platforms are the default")
	exp := s.Component("export")
	assert.Equal(t, filepath.Join(abs, "../out/export.tar"), exp.OutputPath)
	assert.Equal(t, "aGk=", exp.Args["B64"])
	assert.Equal(t, "A-B", exp.Args["UP"])
	assert.NotContains(t, exp.Args, "DROPPED", "null: the Dockerfile's default")
	assert.Nil(t, exp.PlatformArgs, "args that do not use platform")

	dio := s.Registry("docker.io")
	require.NotNil(t, dio)
	assert.Equal(t, []string{"http://127.0.0.1:5000", "https://mirror.invalid/cache"}, dio.Mirrors, "trailing slash dropped")
	assert.True(t, dio.MirrorsOnly)
	assert.Equal(t, filepath.Join(abs, "../certs/ca.pem"), s.Registry("r.invalid:5000").CA)

	require.Len(t, s.Builders, 2)
	assert.Equal(t, "arm", s.Builders[0].Name, "sorted by name")
	assert.Equal(t, []string{"linux/arm64"}, s.Builders[0].Platforms)
	assert.Equal(t, "", s.Builders[1].Address, "local builder")
	assert.Equal(t, 2, s.Builders[0].MaxParallel)
	assert.True(t, s.Builders[0].Required)
	assert.Equal(t, 0, s.Builders[1].MaxParallel, "unset: DefaultMaxParallel")
	assert.False(t, s.Builders[1].Required)

	assert.Equal(t, "local", app.Builder)
	out := filepath.Join(abs, "../out/cache")
	assert.Equal(t, []string{"type=local,src=" + out, "type=registry,ref=r.invalid:5000/team/cache:app"}, app.CacheFrom,
		"the component's own list, normalized, the local directory absolute")
	topTo := []string{"type=registry,image-manifest=true,mode=max,ref=r.invalid:5000/team/cache:app", "type=local,dest=" + out}
	assert.Equal(t, topTo, app.CacheTo, "the top-level default")
	assert.Equal(t, topTo, exp.CacheTo)
	assert.Equal(t, []string{"type=registry,ref=r.invalid:5000/team/cache:app"}, exp.CacheFrom)
	assert.Empty(t, s.Component("lib").CacheTo, "cache_to = [] replaces the default")
	assert.Equal(t, "", exp.Builder)

	require.NotNil(t, s.Proxy)
	assert.Equal(t, "http://alice:s3cret@127.0.0.1:8888", s.Proxy.HTTPProxy, "the Spec keeps the secret")
	assert.Equal(t, "http://xxxxx@127.0.0.1:8888", s.Proxy.Redacted().HTTPProxy)
	assert.Equal(t, "socks5://xxxxx@127.0.0.1:1080", s.Proxy.Redacted().AllProxy)
	assert.Equal(t, "http://127.0.0.1:8888", s.Proxy.Redacted().HTTPSProxy)
}

func TestVariablePrecedence(t *testing.T) {
	t.Parallel()
	file := filepath.Join(testdata, "good", "full.hcl")
	tests := []struct {
		name     string
		vars     map[string]string
		env      []string
		want     string
		source   string
		platform []string
	}{
		{"default", nil, nil, "1.2.3", SourceDefault, nil},
		{"env beats default", nil, []string{"ARCHC_VAR_TAG=env"}, "env", SourceEnv, nil},
		{"flag beats env", map[string]string{"TAG": "flag"}, []string{"ARCHC_VAR_TAG=env"}, "flag", SourceFlag, nil},
		{"other env ignored", nil, []string{"TAG=x", "ARCHC_VAR_=y", "ARCHC_VAR_OTHER=z"}, "1.2.3", SourceDefault, nil},
		{"typed list from env", nil, []string{`ARCHC_VAR_PLATFORMS=["linux/s390x"]`}, "1.2.3", SourceDefault, []string{"linux/s390x"}},
		{"typed list from flag", map[string]string{"PLATFORMS": `["linux/riscv64", "linux/amd64"]`}, nil, "1.2.3", SourceDefault, []string{"linux/riscv64", "linux/amd64"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := mustLoad(t, LoadOptions{Files: []string{file}, Vars: tt.vars, Environ: tt.env})
			v := variable(s, "TAG")
			assert.Equal(t, tt.want, v.Value)
			assert.Equal(t, tt.source, v.Source)
			assert.Equal(t, "r.invalid:5000/team/app:"+tt.want, s.Component("app").Tags[0])
			if tt.platform != nil {
				assert.Equal(t, tt.platform, s.Platforms)
			}
		})
	}
}

func TestVariableValueErrors(t *testing.T) {
	t.Parallel()
	file := filepath.Join(testdata, "good", "full.hcl")
	tests := []struct {
		name   string
		vars   map[string]string
		env    []string
		want   []string
		detail string
	}{
		{"undeclared flag", map[string]string{"NOPE": "1"}, nil, []string{"error: Undefined variable"}, ""},
		{"bool from flag", map[string]string{"DEBUG": "maybe"}, nil, []string{"full.hcl:16:1: error: Invalid value for variable"}, ""},
		{"list from env", nil, []string{"ARCHC_VAR_PLATFORMS=[oops"}, []string{"full.hcl:11:1: error: Invalid value for variable"}, `e.g. ["linux/amd64", "linux/arm64"] for a list`},
		{"unquoted list from env", nil, []string{"ARCHC_VAR_PLATFORMS=linux/arm64"}, []string{"full.hcl:11:1: error: Invalid value for variable"}, "Write it in HCL syntax with quoted strings"},
		{"validation fails", map[string]string{"TAG": ""}, nil, []string{"full.hcl:6:21: error: Invalid value for variable"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, diags := Load(LoadOptions{Files: []string{file}, Vars: tt.vars, Environ: tt.env})
			assert.Equal(t, tt.want, diagStrings(diags))
			if tt.detail != "" {
				require.NotEmpty(t, diags)
				assert.Contains(t, diags[0].Detail, tt.detail)
			}
		})
	}
}

func TestBoolFromFlag(t *testing.T) {
	t.Parallel()
	s := mustLoad(t, LoadOptions{Files: []string{filepath.Join(testdata, "good", "full.hcl")}, Vars: map[string]string{"DEBUG": "true"}})
	assert.Equal(t, "1.2.3-debug", s.Component("app").Labels["org.opencontainers.image.version"])
	assert.Equal(t, "bool", variable(s, "DEBUG").Type)
	assert.Equal(t, "true", variable(s, "DEBUG").Value)
}

func TestMerge(t *testing.T) {
	t.Parallel()
	base := filepath.Join(testdata, "merge", "base.hcl")
	over := filepath.Join(testdata, "merge", "over", "override.hcl")
	s := mustLoad(t, LoadOptions{Files: []string{base, over}})
	abs, err := filepath.Abs(filepath.Join(testdata, "merge"))
	require.NoError(t, err)
	assert.Equal(t, abs, s.Dir, "the first file's directory")
	assert.Equal(t, []string{"linux/arm64"}, s.Platforms, "later file wins")
	assert.Equal(t, "override", variable(s, "TAG").Value)

	app := s.Component("app")
	require.NotNil(t, app)
	assert.Equal(t, filepath.Join(abs, "../ctx/lib"), app.Context, "resolved against override.hcl's directory")
	assert.Equal(t, "base-target", app.Target, "kept from the first file")
	assert.Equal(t, []string{"r.invalid/app:override"}, app.Tags, "uses the merged variable")
	assert.NotNil(t, s.Component("extra"))

	dio := s.Registry("docker.io")
	assert.Equal(t, []string{"http://127.0.0.1:5000"}, dio.Mirrors)
	assert.True(t, dio.MirrorsOnly)

	// The other order: base.hcl wins.
	s = mustLoad(t, LoadOptions{Files: []string{over, base}})
	assert.Equal(t, []string{"linux/amd64"}, s.Platforms)
	assert.Equal(t, filepath.Join(abs, "../ctx/app"), s.Component("app").Context)
	assert.Equal(t, filepath.Join(abs, "over"), s.Dir)
}

func TestMergeErrorsNameTheirFile(t *testing.T) {
	t.Parallel()
	base := filepath.Join(testdata, "merge", "base.hcl")
	bad := filepath.Join(testdata, "bad", "unknown_attr.hcl")
	_, diags := Load(LoadOptions{Files: []string{base, bad}})
	assert.Equal(t, []string{"unknown_attr.hcl:3:3: error: Unsupported argument"}, diagStrings(diags))
}

func TestOutputPathWarning(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, err := filepath.Abs(filepath.Join(testdata, "ctx", "app"))
	require.NoError(t, err)
	src := []byte(`component "a" {
  context     = "` + filepath.ToSlash(ctx) + `"
  output_path = "out"
}
`)
	s, diags := load([]source{{Name: filepath.Join(dir, "w.hcl"), AbsDir: dir, Abs: filepath.Join(dir, "w.hcl"), Bytes: src}}, LoadOptions{})
	require.NotNil(t, s, "a warning does not fail")
	assert.Equal(t, []string{"w.hcl:3:17: warning: Unused output_path"}, diagStrings(diags))
	assert.Equal(t, "", s.Components[0].OutputPath)
	assert.Equal(t, OutputCacheOnly, s.Components[0].Output)
	assert.Equal(t, []string{DefaultPlatform}, s.Platforms)
}

func TestOrderComponents(t *testing.T) {
	t.Parallel()
	comps := []Component{
		{Name: "z"}, {Name: "c", DependsOn: []string{"b"}}, {Name: "b", DependsOn: []string{"a"}},
		{Name: "a"}, {Name: "d", DependsOn: []string{"a", "z"}},
	}
	got, diags := orderComponents(comps)
	require.False(t, diags.HasErrors())
	var names []string
	for _, c := range got {
		names = append(names, c.Name)
	}
	assert.Equal(t, []string{"a", "b", "c", "z", "d"}, names)
}

func TestCyclesAreNamed(t *testing.T) {
	t.Parallel()
	comps := []Component{
		{Name: "a", DependsOn: []string{"b"}}, {Name: "b", DependsOn: []string{"a"}},
		{Name: "x", DependsOn: []string{"y"}}, {Name: "y", DependsOn: []string{"z"}}, {Name: "z", DependsOn: []string{"x"}},
	}
	_, diags := orderComponents(comps)
	require.Len(t, diags, 2)
	assert.Equal(t, "a -> b -> a", diags[0].Detail)
	assert.Equal(t, "x -> y -> z -> x", diags[1].Detail)
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"":                               "",
		"http://127.0.0.1:8888":          "http://127.0.0.1:8888",
		"http://tok3n@127.0.0.1:8888":    "http://xxxxx@127.0.0.1:8888", // a user name can be a token
		"http://user:pw@127.0.0.1:8888":  "http://xxxxx@127.0.0.1:8888",
		"https://u:p%40ss@proxy.invalid": "https://xxxxx@proxy.invalid",
		"http://u:p@[::1]:8080/x":        "http://xxxxx@[::1]:8080/x",
		"bob:pw@127.0.0.1:3128":          "xxxxx@127.0.0.1:3128", // no scheme, as in HTTP_PROXY
		"::not a url":                    "<xxxxx: not a URL>",
	}
	for in, want := range tests {
		assert.Equal(t, want, RedactURL(in), in)
	}
	for in, want := range map[string]string{
		`Get "http://bob:s3cret@127.0.0.1:3128/v2/": refused`: `Get "http://xxxxx@127.0.0.1:3128/v2/": refused`,
		`mirrors = ["https://tok@m.example","b@c"]`:           `mirrors = ["https://xxxxx@m.example","b@c"]`,
		"no url here, just a@b":                               "no url here, just a@b",
	} {
		assert.Equal(t, want, RedactText(in), in)
	}
	assert.Nil(t, (*Proxy)(nil).Redacted())
}

func TestCheckHost(t *testing.T) {
	t.Parallel()
	for host, ok := range map[string]bool{
		"docker.io": true, "127.0.0.1:5001": true, "nexus.example.internal:8082": true, "[::1]:5000": true,
		"localhost": true, "my-registry": true,
		"": false, "https://docker.io": false, "docker.io/library": false, "r:0": false, "r:x": false,
		"-bad.io": false, "a..b": false, "user@r.io": false, "[::1]": false, "r_1.io": false,
	} {
		err := checkHost(host)
		assert.Equal(t, ok, err == nil, "%q: %v", host, err)
	}
}

func variable(s *Spec, name string) Variable {
	for _, v := range s.Variables {
		if v.Name == name {
			return v
		}
	}
	return Variable{}
}

// TestVariableValuesNeverShowSecrets: a proxy URL passed in a variable (the usual way to
// keep a password out of the spec) is masked wherever the value is shown, and a sensitive
// variable is not shown at all; the evaluated spec still has the real value.
func TestVariableValuesNeverShowSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "archbuild.hcl")
	require.NoError(t, os.WriteFile(file, []byte(`
variable "PROXY_URL" {}
variable "TOKEN" {
  sensitive = true
  validation {
    condition     = length(var.TOKEN) > 100
    error_message = "TOKEN is too short."
  }
}
proxy {
  https_proxy = var.PROXY_URL
}
`), 0o644))
	s, diags := Load(LoadOptions{Files: []string{file}, Environ: []string{
		"ARCHC_VAR_PROXY_URL=http://bob:hunter2@127.0.0.1:3128", "ARCHC_VAR_TOKEN=s3cret-token"}})
	require.Len(t, diags, 1, "the failed validation")
	assert.Contains(t, diags[0].Detail, "var.TOKEN = (sensitive): TOKEN is too short.")
	assert.NotContains(t, diags[0].Detail, "s3cret")
	require.Nil(t, s)

	s, diags = Load(LoadOptions{Files: []string{file}, Environ: []string{
		"ARCHC_VAR_PROXY_URL=http://bob:hunter2@127.0.0.1:3128", "ARCHC_VAR_TOKEN=" + strings.Repeat("s3cret", 20)}})
	require.False(t, diags.HasErrors(), diags.Error())
	assert.Equal(t, "http://bob:hunter2@127.0.0.1:3128", s.Proxy.HTTPSProxy, "the spec keeps the real value")
	out, err := json.Marshal(s.Normalized())
	require.NoError(t, err)
	assert.NotContains(t, string(out), "hunter2")
	assert.NotContains(t, string(out), "bob")
	assert.NotContains(t, string(out), "s3cret")
	assert.Contains(t, string(out), `"value":"http://xxxxx@127.0.0.1:3128"`)
	assert.Contains(t, string(out), `"sensitive":true`)
	assert.Contains(t, string(out), `"value":"(sensitive)"`)
}

// TestFunctionLength: length counts a string's characters and a collection's elements,
// as in Terraform and bake.
func TestFunctionLength(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		`length("héllo")`:    "5",
		`length(["a", "b"])`: "2",
		`length({ a = 1 })`:  "1",
		`length("") == 0`:    "true",
	} {
		dir := t.TempDir()
		file := filepath.Join(dir, "archbuild.hcl")
		require.NoError(t, os.WriteFile(file, []byte("variable \"TAG\" { default = \"dev\" }\nvariable \"OUT\" { default = "+expr+" }\n"), 0o644))
		s, diags := Load(LoadOptions{Files: []string{file}})
		require.False(t, diags.HasErrors(), "%s: %s", expr, diags.Error())
		for _, v := range s.Variables {
			if v.Name == "OUT" {
				assert.Equal(t, want, v.Value, expr)
			}
		}
	}
}

// TestNoSecretInURLErrorsOrMasks: URLs whose credentials hold reserved characters are the
// ones that fail to parse; neither their errors nor their masked forms show the secret.
func TestNoSecretInURLErrorsOrMasks(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"http://bob:12#S3CRET@proxy.local:3128": "<xxxxx: not a URL>", // host "bob:12", a fragment
		"http://bob:ab/cdS3CRET@proxy.local":    "<xxxxx: not a URL>",
		"http://proxy.local:3128/?t=S3CRET":     "<xxxxx: not a URL>",
	} {
		assert.Equal(t, want, RedactURL(in), in)
	}
	for in, want := range map[string]string{
		"http://bob:ab/cdS3CRET@proxy.local:3128":  "http://xxxxx@proxy.local:3128",
		"bob:S3CRET@proxy.local:3128":              "xxxxx@proxy.local:3128",
		`proxy "bob:S3CRET@proxy.local:3128" down`: `proxy "xxxxx@proxy.local:3128" down`,
		"see http://example.com/a, time 12:30":     "see http://example.com/a, time 12:30",
	} {
		assert.Equal(t, want, RedactText(in), in)
	}
	for _, bad := range []string{"http://bob:p%zzS3CRET@m.local", "http://bob:ab/cdS3CRET@proxy.local:3128",
		"http://bob:12#S3CRET@proxy.local:3128", "bobS3CRET:pw@proxy.local:1", "http://proxy.local:1/?S3CRET"} {
		err := checkProxyURL(bad)
		require.Error(t, err, bad)
		assert.NotContains(t, err.Error(), "S3CRET", bad)
		_, err = checkMirror(bad)
		require.Error(t, err, bad)
		assert.NotContains(t, err.Error(), "S3CRET", bad)
	}
}
