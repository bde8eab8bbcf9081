package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cacheDockerfile has a build stage whose layers only a mode=max export keeps, so a fresh
// builder finds every step in the imported cache only if the intermediate stage went too.
const cacheDockerfile = `FROM busybox AS build
RUN echo built > /built && sleep 1
COPY . /src/
FROM busybox
COPY --from=build /built /built
RUN cat /built > /final
`

// cacheSpec is one local builder (%[3]s: a name of its own, so a fresh buildkitd with an
// empty cache starts for it) and a component; %[4]s is the cache attributes.
const cacheSpec = `
platforms = ["linux/amd64"]
registry "docker.io" { mirrors = ["%[1]s"] }
registry "%[2]s" { http = true }
builder "%[3]s" {}
%[4]s
component "app" {
  context = "./app"
  tags    = ["%[2]s/cache/app:v1"]
  %[5]s
}
`

// cacheProject writes a project whose spec routes to a builder of its own name, and stops
// that builder when the test ends.
func (e *env) cacheProject(t *testing.T, builder, top, component string) string {
	t.Helper()
	dir := t.TempDir()
	write(t, dir, map[string]string{
		"archbuild.hcl":  fmt.Sprintf(cacheSpec, e.mirror.URL, e.push.Host, builder, top, component),
		"app/Dockerfile": cacheDockerfile,
		"app/file.txt":   "same content in every project\n",
	})
	t.Cleanup(func() { e.run(t, dir, "builder", "down") })
	return dir
}

// testSharedCache: a component built on one node exports its cache (cache_to); the same
// spec on a fresh node with an empty cache imports it (cache_from) and rebuilds nothing.
// Through the push registry (plain HTTP: the spec's registry block reaches the daemon
// through buildkitd.toml), and through a local directory on this machine.
func testSharedCache(t *testing.T, e *env, reg registryClient) {
	ref := e.push.Host + "/cache/app:buildcache"
	t.Run("registry, mode=max, the top-level default", func(t *testing.T) {
		first := e.cacheProject(t, "cache-reg-1", fmt.Sprintf(`cache_to = ["type=registry,ref=%s,mode=max"]`, ref), "")
		r := e.run(t, first, "plan")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stdout, "cache to    type=registry,mode=max,ref="+ref)
		assert.Contains(t, r.stdout, "builders    cache-reg-1")
		r = e.run(t, first, "apply", "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		assertSomeBuilt(t, r.stderr)
		cache, _ := reg.get(t, "/v2/cache/app/manifests/buildcache")
		assert.Contains(t, string(cache), "application/vnd.buildkit.cacheconfig.v0", "the cache manifest was pushed")

		second := e.cacheProject(t, "cache-reg-2", "", fmt.Sprintf(`cache_from = ["type=registry,ref=%s"]`, ref))
		r = e.run(t, second, "apply", "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		assertAllCached(t, r.stderr)
	})
	t.Run("a cache-only component exports its cache too", func(t *testing.T) {
		ref := e.push.Host + "/cache/app:cacheonly"
		first := e.cacheProject(t, "cache-only-1", "", fmt.Sprintf("output = \"cache-only\"\n  cache_to = [\"type=registry,ref=%s,mode=max\"]", ref))
		r := e.run(t, first, "apply", "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		assertSomeBuilt(t, r.stderr)

		second := e.cacheProject(t, "cache-only-2", "", fmt.Sprintf("output = \"cache-only\"\n  cache_from = [\"type=registry,ref=%s\"]", ref))
		r = e.run(t, second, "apply", "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		assertAllCached(t, r.stderr)
	})
	t.Run("local directory between two builders on one machine", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "shared-cache")
		first := e.cacheProject(t, "cache-loc-1", "", fmt.Sprintf(`cache_to = ["type=local,dest=%s,mode=max"]`, dir))
		r := e.run(t, first, "apply", "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		assertSomeBuilt(t, r.stderr)
		_, err := os.Stat(filepath.Join(dir, "index.json"))
		require.NoError(t, err, "the local cache was written as an OCI layout")

		second := e.cacheProject(t, "cache-loc-2", "", fmt.Sprintf(`cache_from = ["type=local,src=%s"]`, dir))
		r = e.run(t, second, "apply", "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		assertAllCached(t, r.stderr)
	})
}

// assertSomeBuilt checks that a run really built (its node started cold), so the next
// run's cache hits can only come from the imported cache.
func assertSomeBuilt(t *testing.T, rawjson string) {
	t.Helper()
	for name, cached := range completedVertices(t, rawjson) {
		if !cached && (strings.Contains(name, "] RUN ") || strings.Contains(name, "] COPY ")) {
			return
		}
	}
	t.Errorf("every RUN/COPY step came from the cache: the first node was not cold")
}
