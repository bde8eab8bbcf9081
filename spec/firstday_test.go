package spec

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// loadText loads src as archbuild.hcl in a directory holding app/Dockerfile.
func loadText(t *testing.T, src string) []string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM alpine\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(src), 0o644))
	s, diags := Load(LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	assert.Nil(t, s)
	var out []string
	for _, d := range diags {
		out = append(out, diagString(d)+" | "+d.Detail)
	}
	return out
}

// TestFirstDayMessages: the spec errors a user coming from bake met on the first day say
// what to write, and one mistake does not hide or precede the others.
func TestFirstDayMessages(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		src  string
		want []string // substrings, one per diagnostic, in order
	}{
		{"dockerfile path states its own rule", `component "web" {
  context    = "./app"
  dockerfile = "Dockerfile.web"
}`, []string{`3:16: error: Dockerfile not found | Dockerfile: `}},
		{"dockerfile rule", `component "web" {
  context    = "./app"
  dockerfile = "Dockerfile.web"
}`, []string{`Dockerfile.web: no such file or directory. The dockerfile attribute is relative to the component's context ("./app"), like docker build -f`}},
		{"context typo is the only error", `component "api" {
  dockerfile = "Dockerfile"
  context    = "./ap"
}`, []string{"3:16: error: Build context not found"}},
		{"bake blocks", `target "api" {}
group "default" {
  targets = ["api"]
}`, []string{`1:1: error: Unsupported block type | Blocks of type "target" are docker buildx bake's, not archc's. A bake target is a component here: write component "NAME"`,
			`2:1: error: Unsupported block type | Blocks of type "group" are docker buildx bake's, not archc's. archc has no groups`}},
		{"bake output list", `component "api" {
  context = "./app"
  tags    = ["r.invalid/api:1"]
  output  = ["type=registry"]
}`, []string{`4:13: error: Unsuitable value type | Unsuitable value: string required, but have tuple. output is one word: "registry", "oci", "local", "docker" or "cache-only"`}},
		{"bake output CSV", `component "api" {
  context = "./app"
  tags    = ["r.invalid/api:1"]
  output  = "type=registry,push=true"
}`, []string{`4:13: error: Invalid output | component "api": output "type=registry,push=true" is not one of registry, oci, local, docker, cache-only. bake's CSV form is not used here: write output = "registry"`}},
		{"variable errors hide nothing", `variable "TAG" {
  type = strin
}
variable "V" {
  defualt = "x"
}
component "api" {
  context = "./ap"
}`, []string{"2:10: error: Invalid type specification", `5:3: error: Unsupported argument | An argument named "defualt" is not expected here. Did you mean "default"?`,
			"8:13: error: Build context not found"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := loadText(t, tc.src)
			require.Len(t, got, len(tc.want), "%q", got)
			for i, w := range tc.want {
				if i == 0 && tc.name == "dockerfile rule" {
					assert.Contains(t, got[i], w)
					assert.NotContains(t, got[i], "Relative paths resolve against the spec file's directory")
					continue
				}
				assert.Contains(t, got[i], "archbuild.hcl:"+w)
			}
		})
	}
}
