package e2e

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const selectSpec = `
platforms = ["linux/amd64", "linux/arm64"]
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
component "lib" {
  context = "./lib"
}
component "app" {
  context  = "./app"
  contexts = { lib = component.lib }
  tags     = ["%[2]s/select/app:v1"]
}
component "other" {
  context = "./other"
  tags    = ["%[2]s/select/other:v1"]
}
`

// testSelection: `archc apply app --platform linux/arm64` (a CI shard) builds app for
// arm64 and the component it uses for arm64, nothing else: the pushed tag holds the arm64
// image only, the other component is not pushed, and the plan lists what it left out.
func testSelection(t *testing.T, e *env, reg registryClient) {
	dir := e.customProject(t, selectSpec, map[string]string{
		"lib/Dockerfile":   "FROM busybox\nRUN uname -m > /arch\n",
		"app/Dockerfile":   "FROM busybox\nCOPY --from=lib /arch /lib-arch\nRUN uname -m > /arch\n",
		"other/Dockerfile": "FROM busybox\nRUN echo other > /other\n",
	})
	r := e.run(t, dir, "apply", "app", "--platform", "linux/arm64", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stdout, "Selection: components app; platforms linux/arm64, and what they depend on\n")
	assert.Contains(t, r.stdout, "Not selected: app/linux/amd64, lib/linux/amd64, other/linux/amd64, other/linux/arm64\n")

	img := reg.image(t, "select/app", "v1")
	platforms := make([]string, 0, len(img.Manifests))
	for p := range img.Manifests {
		platforms = append(platforms, p)
	}
	slices.Sort(platforms)
	assert.Equal(t, []string{"linux/arm64"}, platforms, "the shard pushes its platform only")
	m, ok := img.Manifests["linux/arm64"]
	require.True(t, ok)
	arch, err := reg.file(t, "select/app", m, "lib-arch")
	require.NoError(t, err)
	assert.Equal(t, "aarch64\n", arch, "the dependency was built for arm64 too")
	assert.False(t, reg.exists(t, "select/other", "v1"), "an unselected component is not built")
}
