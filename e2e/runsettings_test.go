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

// runSettingsSpec has one component per setting, each exporting what its steps saw.
const runSettingsSpec = `
platforms = ["linux/amd64"]
registry "docker.io" { mirrors = ["%[1]s"] }
component "settings" {
  context     = "./settings"
  output      = "local"
  output_path = "out/settings"
  extra_hosts = { "git.internal" = "10.0.0.7" }
  shm_size    = "96m"
  ulimits     = ["nofile=1024:2048"]
}
component "offline" {
  context     = "./offline"
  output      = "local"
  output_path = "out/offline"
  network     = "none"
}
component "entitled" {
  context     = "./entitled"
  output      = "local"
  output_path = "out/entitled"
  allow       = ["network.host", "security.insecure"]
}
component "fresh" {
  context     = "./fresh"
  output      = "local"
  output_path = "out/fresh"
  no_cache    = true
}
`

// Steps print what they see into files; a step that fails (grep finding nothing, mount
// refused) fails the apply.
const (
	settingsDockerfile = `FROM busybox
RUN grep git.internal /etc/hosts > /hosts
RUN df -k /dev/shm | tail -n 1 | awk '{print $2}' > /shm && ulimit -n > /nofile && ulimit -Hn > /nofile-hard
RUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /links
RUN mkdir -p /m && if mount -t tmpfs none /m 2>/dev/null; then echo yes; else echo no; fi > /mounted
`
	offlineDockerfile = `FROM busybox
RUN tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | sort > /links
`
	// %s is the loopback registry's host:port, reachable only on the host's network.
	entitledDockerfile = `FROM busybox
RUN --network=host wget -q -O /registry http://%s/v2/ && echo reached > /reached
RUN --security=insecure mkdir -p /m && mount -t tmpfs none /m && echo yes > /mounted
`
	freshDockerfile = `FROM busybox
RUN echo fresh > /fresh
`
)

// testRunSettings: extra_hosts, shm_size, ulimits, network = "none", allow (network.host,
// security.insecure), no_cache and apply --no-cache, on the local builder; a step that
// needs an entitlement the component does not allow fails the plan, naming its line.
func testRunSettings(t *testing.T, e *env, _ registryClient) {
	dir := e.customProject(t, runSettingsSpec, map[string]string{
		"settings/Dockerfile": settingsDockerfile,
		"offline/Dockerfile":  offlineDockerfile,
		"entitled/Dockerfile": fmt.Sprintf(entitledDockerfile, e.push.Host),
		"fresh/Dockerfile":    freshDockerfile,
	})
	r := e.run(t, dir, "apply", "--progress=rawjson")
	require.Equal(t, 0, r.code, r.stderr)
	plan := planText(r.stdout)
	assert.Contains(t, plan, "  no cache    all stages\n")
	assert.Contains(t, plan, "  entitlements network.host, security.insecure\n")

	out := func(comp, name string) string {
		t.Helper()
		return strings.TrimSpace(readOutput(t, filepath.Join(dir, "out", comp), name))
	}
	assert.Regexp(t, `^10\.0\.0\.7\s+git\.internal$`, out("settings", "hosts"), "extra_hosts")
	assert.Equal(t, "98304", out("settings", "shm"), "shm_size 96m, in KiB")
	assert.Equal(t, "1024", out("settings", "nofile"), "ulimits soft")
	assert.Equal(t, "2048", out("settings", "nofile-hard"), "ulimits hard")
	assert.Equal(t, "no", out("settings", "mounted"), "a step without security.insecure cannot mount")
	assert.Equal(t, "lo", out("offline", "links"), "network none: loopback only")
	assert.NotEqual(t, "lo", out("settings", "links"), "the default network has more than loopback (else network none proves nothing)")
	assert.Equal(t, "reached", out("entitled", "reached"), "RUN --network=host reaches the loopback registry")
	assert.Equal(t, "yes", out("entitled", "mounted"), "RUN --security=insecure is privileged")

	// The first apply wrote the lock; the plans that follow are the same.
	var locked string
	t.Run("no_cache builds its steps again, the others come from the cache", func(t *testing.T) {
		r := e.run(t, dir, "apply", "--progress=rawjson")
		require.Equal(t, 0, r.code, r.stderr)
		locked = planText(r.stdout)
		steps := runSteps(t, r.stderr)
		assert.Equal(t, map[string]bool{"fresh": false, "settings": true, "offline": true, "entitled": true}, steps, "cached, per component")
	})

	t.Run("apply --no-cache builds every step again and keeps the plan", func(t *testing.T) {
		r := e.run(t, dir, "apply", "--progress=rawjson", "--no-cache")
		require.Equal(t, 0, r.code, r.stderr)
		assert.Equal(t, locked, planText(r.stdout), "the plan is the same")
		assert.Equal(t, map[string]bool{"fresh": false, "settings": false, "offline": false, "entitled": false}, runSteps(t, r.stderr))
	})

	t.Run("a step needing an entitlement the component does not allow fails the plan", func(t *testing.T) {
		denied := e.customProject(t, strings.ReplaceAll(runSettingsSpec, `allow       = ["network.host", "security.insecure"]`, `allow       = ["security.insecure"]`), map[string]string{
			"settings/Dockerfile": settingsDockerfile,
			"offline/Dockerfile":  offlineDockerfile,
			"entitled/Dockerfile": fmt.Sprintf(entitledDockerfile, e.push.Host),
			"fresh/Dockerfile":    freshDockerfile,
		})
		r := e.run(t, denied, "plan")
		require.NotEqual(t, 0, r.code)
		assert.Contains(t, r.stderr, "entitled/Dockerfile:2 (RUN --network=host wget")
		assert.Contains(t, r.stderr, `needs entitlement network.host: add allow = ["network.host"] to component entitled`)
		assert.NotContains(t, r.stderr, "Dockerfile:3", "security.insecure is allowed")
	})
}

// planText is apply's plan: its stdout up to the plan's summary line.
func planText(stdout string) string {
	i := strings.Index(stdout, "\nPlan: ")
	if i < 0 {
		return stdout
	}
	end := strings.Index(stdout[i+1:], "\n")
	if end < 0 {
		return stdout
	}
	return stdout[:i+1+end+1]
}

// runSteps reports, per component, whether all its RUN steps came from the cache (the
// progress names each step "[COMPONENT PLATFORM] ...").
func runSteps(t *testing.T, rawjson string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for name, cached := range completedVertices(t, rawjson) {
		if !strings.HasPrefix(name, "[") || !strings.Contains(name, "] RUN ") {
			continue
		}
		comp, _, _ := strings.Cut(strings.TrimPrefix(name, "["), " ")
		if prev, seen := out[comp]; seen {
			cached = cached && prev
		}
		out[comp] = cached
	}
	return out
}

// readOutput reads name from a local output directory (the platform's subdirectory when
// the exporter split it).
func readOutput(t *testing.T, dir, name string) string {
	t.Helper()
	for _, p := range []string{filepath.Join(dir, name), filepath.Join(dir, "linux_amd64", name)} {
		if b, err := os.ReadFile(p); err == nil {
			return string(b)
		}
	}
	require.Failf(t, "missing output", "%s has no %s", dir, name)
	return ""
}
