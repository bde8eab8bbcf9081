package doctor

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// TestNodeProbes runs doctor's node checks against real buildkitd nodes, each with its own
// config, and a loopback registry reached two ways: plain HTTP, and https through a TLS
// front whose CA the spec names (registry { ca }).
//   - Both nodes read the pinned base through archc's session store and run a step on each
//     routed platform (arm64 by emulation when this machine has it).
//   - The plain-HTTP host needs nothing of a node: apply's push sets registry.insecure and
//     BuildKit speaks plain HTTP to loopback by default, so both probes pass, as apply would.
//   - The CA host: the node with an empty config cannot write there (it does not speak TLS
//     to it), the node whose config carries the CA can; the failure names the node, the
//     host and the [registry] block its config lacks.
//   - A node whose block lists a platform its workers cannot run, with no other builder for
//     it, fails.
func TestNodeProbes(t *testing.T) {
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	bin := testenv.Require(t, testenv.PartBuildkitd)
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	reg := testenv.StartRegistry(t)
	img := testenv.PushBusybox(t, reg, "library/busybox", "1.36")
	front := testenv.StartTLSFront(t, reg.URL)

	var bare, configured string
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); bare = testenv.StartBuildkitd(t, bin, "", "debug = false\n").Addr }()
	go func() {
		defer wg.Done()
		configured = testenv.StartBuildkitd(t, bin, "", fmt.Sprintf("debug = false\n[registry.%q]\n  http = false\n  ca = [%q]\n", front.Host, front.CAFile)).Addr
	}()
	wg.Wait()

	plats := []string{"linux/amd64"}
	if _, err := os.Stat("/proc/sys/fs/binfmt_misc/qemu-aarch64"); err == nil {
		plats = append(plats, "linux/arm64")
	}
	body := mirrorSpec(reg.URL, plats...) +
		fmt.Sprintf("registry %q {\n  http = true\n}\nregistry %q {\n  ca = %q\n}\n", reg.Host, front.Host, front.CAFile) +
		fmt.Sprintf("builder \"bare\" {\n  address = %q\n}\nbuilder \"configured\" {\n  address = %q\n}\n", bare, configured) +
		fmt.Sprintf("component \"app\" {\n  context = \"./app\"\n  output = \"registry\"\n  tags = [%q, %q]\n  cache_to = [%q]\n}\n",
			reg.Host+"/app:v1", front.Host+"/app:v1", "type=registry,ref="+reg.Host+"/cache/app,mode=max")
	s := loadSpec(t, body)
	writeLock(t, s, img, reg.Host)
	o := testOptions(t, s.Dir)
	r := runBuilderChecks(s, o)
	for _, f := range r.Findings {
		t.Logf("%s %s: %s | %s", f.Verdict, f.Name, f.Checked, f.Cause)
	}

	for _, node := range []string{"bare", "configured"} {
		f := *r.Find("probe " + node)
		assertFinding(t, f, OK, "FROM docker.io/library/busybox:1.36@sha256:", "", "")
		for _, p := range plats {
			assert.Contains(t, f.Checked, p+": FROM")
		}
		assert.Equal(t, len(plats), strings.Count(f.Checked, "→ read and ran"), "a step ran on every routed platform")
	}
	ok := *r.Find("push configured")
	assertFinding(t, ok, OK, "pushed a probe image by digest to "+front.Host+"/app/archc-doctor-probe", "", "")
	assert.Contains(t, ok.Checked, "pushed a probe image by digest to "+reg.Host+"/app/archc-doctor-probe")
	assert.Contains(t, ok.Checked, "pushed a probe image by digest to "+reg.Host+"/cache/app/archc-doctor-probe (for app's registry cache export")
	bad := *r.Find("push bare")
	assertFinding(t, bad, Fail, `builder "bare" at `+bare+" pushed a probe image by digest to "+front.Host,
		"the node cannot write to "+front.Host, fmt.Sprintf("[registry.'%s']\n    http = false\n    ca = ['%s']", front.Host, front.CAFile))
	assert.Contains(t, bad.Fix, front.Host+" speaks https and the node tried plain HTTP")
	assert.NotContains(t, bad.Cause, reg.Host+":", "the plain-HTTP host is not what failed")
	assert.Contains(t, bad.Fix, "its own buildkitd.toml")

	// The probes wrote where they say, and only there.
	catalog := get200(t, reg.URL+"/v2/_catalog")
	assert.Contains(t, catalog, `"app/archc-doctor-probe"`)
	assert.Contains(t, catalog, `"cache/app/archc-doctor-probe"`)
	assert.NotContains(t, catalog, `"app"`, "nothing of the component's own was written")
	resp, err := http.Get(reg.URL + "/v2/app/archc-doctor-probe/tags/list")
	require.NoError(t, err)
	tags, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.NotContains(t, string(tags), `"tags":["`, "pushed by digest: no tag")

	t.Run("a platform the node's workers cannot run", func(t *testing.T) {
		body := mirrorSpec(reg.URL, "linux/s390x") +
			fmt.Sprintf("builder \"bare\" {\n  address = %q\n  platforms = [\"linux/s390x\"]\n}\n", bare)
		s := loadSpec(t, body)
		writeLock(t, s, img, reg.Host)
		f := runOneNamed(t, s, testOptions(t, s.Dir), "probe bare")
		assertFinding(t, f, Fail, `builder "bare" at `+bare+" workers: linux/386, linux/amd64",
			"its block lists linux/s390x, which its workers cannot run", `remove the platform from builder "bare" { platforms }`)
		assert.Contains(t, f.Cause, "no other builder that is up runs linux/s390x")
	})
}

func get200(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(b))
	return string(b)
}
