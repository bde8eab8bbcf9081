package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFarm runs issue 12's build-farm scenarios on one rig of three real buildkitd nodes on
// loopback: amd-1 (unix socket), amd-2 (tcp with mutual TLS), both linux/amd64, and arm
// (unix socket, a linux/arm64 worker run through qemu). The rig starts once; the
// scenarios run in order, and the last one kills a node.
func TestFarm(t *testing.T) {
	e := setup(t)
	rig := newFarmRig(t, e)
	t.Run("spreads components over the amd64 nodes", func(t *testing.T) { testFarmSpread(t, rig) })
	t.Run("pushes every tag across repositories from split platforms", func(t *testing.T) { testFarmTags(t, rig) })
	t.Run("skips a node down at start unless it is required", func(t *testing.T) { testFarmDown(t, rig) })
	t.Run("re-runs the work of a node killed mid-build", func(t *testing.T) { testFarmKilled(t, rig) })
}

// testFarmSpread: four amd64 components, one slot per amd64 node: both nodes build, as
// their build histories show, and the results table and the metadata file say the same.
func testFarmSpread(t *testing.T, rig *farmRig) {
	const repo = "farm-spread"
	before := rig.snapshot(t)
	names := []string{"s0", "s1", "s2", "s3"}
	dir := rig.project(t, farmSpec{maxParallel: map[string]int{"amd-1": 1, "amd-2": 1}},
		farmComponents(rig.e.push.Host, repo, names, `["linux/amd64"]`, "sleep 1"))
	meta := filepath.Join(dir, "result.json")
	r := rig.e.run(t, dir, "apply", "--progress=plain", "--metadata-file", meta)
	require.Equal(t, 0, r.code, r.stderr)

	rows := resultRows(t, r.stdout)
	built := rig.builtBy(t, before, repo)
	t.Logf("history: %v; table: %v", built, rows)
	assert.NotEmpty(t, built["amd-1"], "amd-1's build history shows no component")
	assert.NotEmpty(t, built["amd-2"], "amd-2's build history shows no component")
	assert.Empty(t, built["arm"], "the arm64 node built amd64 work")
	md := readFarmMetadata(t, meta)
	for _, c := range names {
		b := rows[c+" linux/amd64"]
		require.NotEmpty(t, b, "no results row for %s linux/amd64", c)
		assert.Contains(t, built[b], c, "the table says %s was built on %s; its history does not show it", c, b)
		assert.Equal(t, b, md.Components[c].Platforms["linux/amd64"].Builder, "metadata file's builder of %s", c)
		assert.True(t, rig.reg.exists(t, repo+"/"+c, "v1"), c)
	}
}

// testFarmTags: one component, three tags in two repositories, linux/amd64 on an amd64
// node and linux/arm64 on arm: every tag points at the same index with both platforms, the
// metadata file lists each, and a rerun restores a deleted tag.
func testFarmTags(t *testing.T, rig *farmRig) {
	const repo = "farm-tags"
	host := rig.e.push.Host
	refs := []string{repo + "/app:v1", repo + "/app:latest", repo + "/other:v1"}
	comp := fmt.Sprintf(`component "multi" {
  context   = "./multi"
  platforms = ["linux/amd64", "linux/arm64"]
  tags      = ["%[1]s/%[2]s", "%[1]s/%[3]s", "%[1]s/%[4]s"]
}
`, host, refs[0], refs[1], refs[2])
	dir := rig.project(t, farmSpec{}, map[string]string{"components.hcl": comp,
		"multi/Dockerfile": "FROM busybox\nRUN uname -m > /arch\n"})
	meta := filepath.Join(dir, "result.json")
	before := rig.snapshot(t)
	r := rig.e.run(t, dir, "apply", "--progress=plain", "--metadata-file", meta)
	require.Equal(t, 0, r.code, r.stderr)

	rows := resultRows(t, r.stdout)
	assert.Equal(t, "arm", rows["multi linux/arm64"])
	require.Contains(t, []string{"amd-1", "amd-2"}, rows["multi linux/amd64"])
	built := rig.builtBy(t, before, repo)
	assert.NotEmpty(t, built["arm"], "arm's build history shows no push of linux/arm64")
	assert.NotEmpty(t, built[rows["multi linux/amd64"]], "%s's build history shows no push of linux/amd64", rows["multi linux/amd64"])
	index := rig.assertTags(t, refs)
	multi := readFarmMetadata(t, meta).Components["multi"]
	assert.Equal(t, index.Digest, multi.Digest, "metadata file's index digest")
	assert.Len(t, multi.Tags, len(refs), "metadata file's tags: %v", multi.Tags)
	for _, ref := range refs {
		assert.Equal(t, index.Digest, multi.Tags[host+"/"+ref], "metadata file's digest of %s", ref)
	}
	for p, m := range index.Manifests {
		assert.Equal(t, m, multi.Platforms[p].Digest, "metadata file's manifest of %s", p)
		assert.Equal(t, rows["multi "+p], multi.Platforms[p].Builder, "metadata file's builder of %s", p)
	}

	// The registry deletes by digest: this removes other:v1, app's tags stay.
	code := rig.reg.delete(t, repo+"/other", index.Digest)
	if code != http.StatusAccepted {
		t.Skipf("the registry refused DELETE (%d): the repair part is not tested", code)
	}
	require.False(t, rig.reg.exists(t, repo+"/other", "v1"))
	r = rig.e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)
	again := rig.assertTags(t, refs)
	assert.Equal(t, index.Digest, again.Digest, "the rerun pushed a different index")
}

// testFarmDown: amd-2 is stopped before apply: its work goes to amd-1 with a warning
// naming amd-2; with required = true on amd-2 the run fails before building anything.
func testFarmDown(t *testing.T, rig *farmRig) {
	const repo = "farm-down"
	amd2 := rig.node("amd-2")
	amd2.stop(t)
	t.Cleanup(func() { amd2.start(t) })
	names := []string{"d0", "d1"}
	files := farmComponents(rig.e.push.Host, repo, names, `["linux/amd64"]`, "true")

	dir := rig.project(t, farmSpec{}, files)
	r := rig.e.run(t, dir, "apply", "--progress=plain")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Regexp(t, `warning: builder "amd-2" \(tcp://127\.0\.0\.1:\d+\) is down`, r.stderr)
	rows := resultRows(t, r.stdout)
	for _, c := range names {
		assert.Equal(t, "amd-1", rows[c+" linux/amd64"], c)
		assert.True(t, rig.reg.exists(t, repo+"/"+c, "v1"), c)
	}

	before := rig.snapshot(t)
	files = farmComponents(rig.e.push.Host, repo+"-required", names, `["linux/amd64"]`, "true")
	dir = rig.project(t, farmSpec{required: map[string]bool{"amd-2": true}}, files)
	meta := filepath.Join(dir, "result.json")
	r = rig.e.run(t, dir, "apply", "--progress=plain", "--metadata-file", meta)
	assert.NotEqual(t, 0, r.code, "apply succeeded without the required builder amd-2")
	assert.Contains(t, r.stderr, `builder "amd-2"`)
	md := readFarmMetadata(t, meta) // written also when the run fails
	assert.Equal(t, "failed", md.Status)
	assert.Contains(t, md.Error, "amd-2")
	built := rig.builtBy(t, before, repo+"-required")
	assert.Empty(t, built, "a run that lacks a required builder built something")
	for _, c := range names {
		assert.False(t, rig.reg.exists(t, repo+"-required/"+c, "v1"), c)
	}
}

// testFarmKilled: amd-1 is killed with SIGKILL while a RUN sleep 5 runs on it: the run
// re-runs that build on amd-2, says amd-1 went away, and pushes everything.
func testFarmKilled(t *testing.T, rig *farmRig) {
	const repo = "farm-killed"
	amd1 := rig.node("amd-1")
	names := []string{"k0", "k1"}
	dir := rig.project(t, farmSpec{maxParallel: map[string]int{"amd-1": 1, "amd-2": 1}},
		farmComponents(rig.e.push.Host, repo, names, `["linux/amd64"]`, "sleep 5"))
	meta := filepath.Join(dir, "result.json")
	run := rig.e.start(t, dir, "apply", "--progress=plain", "--metadata-file", meta)

	pid := amd1.pid()
	require.NotZero(t, pid, "amd-1 is not running")
	deadline := time.Now().Add(90 * time.Second)
	for !sleepingUnder(pid) {
		require.True(t, time.Now().Before(deadline), "no RUN sleep started on amd-1 within 90s; archc stderr:\n%s", tail(run.stderr.String(), 30))
		require.False(t, run.done(), "apply ended before a RUN sleep started on amd-1:\n%s", tail(run.stderr.String(), 30))
		time.Sleep(100 * time.Millisecond)
	}
	amd1.kill9(t)
	r := run.wait(t)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, `builder "amd-1" went away`)
	rows := resultRows(t, r.stdout)
	md := readFarmMetadata(t, meta)
	assert.Equal(t, "succeeded", md.Status)
	var rerun []string
	for _, c := range names {
		assert.Equal(t, "amd-2", rows[c+" linux/amd64"], "%s: the final row names where it was built", c)
		p := md.Components[c].Platforms["linux/amd64"]
		assert.Equal(t, "amd-2", p.Builder, c)
		if slices.Contains(p.LostBuilders, "amd-1") {
			rerun = append(rerun, c)
		}
		assert.True(t, rig.reg.exists(t, repo+"/"+c, "v1"), c)
	}
	assert.Len(t, rerun, 1, "the metadata file names amd-1 lost in exactly the build it ran")
}

// farmComponents writes one component per name for platforms (an HCL list), each with its
// own RUN (so nothing is shared between them or with other scenarios) ending with step.
func farmComponents(push, repo string, names []string, platforms, step string) map[string]string {
	var hcl strings.Builder
	files := map[string]string{}
	for _, n := range names {
		fmt.Fprintf(&hcl, "component %q {\n  context   = \"./%s\"\n  platforms = %s\n  tags      = [\"%s/%s/%s:v1\"]\n}\n",
			n, n, platforms, push, repo, n)
		files[n+"/Dockerfile"] = fmt.Sprintf("FROM busybox\nRUN echo %s/%s > /id && %s\n", repo, n, step)
	}
	files["components.hcl"] = hcl.String()
	return files
}

// resultRows maps "COMPONENT PLATFORM" to the BUILDER column of apply's results table.
func resultRows(t *testing.T, stdout string) map[string]string {
	t.Helper()
	rows := map[string]string{}
	var col map[string]int
	for _, line := range strings.Split(stdout, "\n") {
		f := strings.Fields(line)
		if len(f) >= 3 && f[0] == "COMPONENT" {
			col = map[string]int{}
			for i, h := range f {
				col[h] = i
			}
			continue
		}
		if col == nil || len(f) <= slices.Max([]int{col["COMPONENT"], col["PLATFORM"], col["BUILDER"]}) ||
			!strings.Contains(f[col["PLATFORM"]], "/") { // the totals line
			continue
		}
		rows[f[col["COMPONENT"]]+" "+f[col["PLATFORM"]]] = f[col["BUILDER"]]
	}
	require.NotNil(t, col, "no results table in stdout:\n%s", stdout)
	return rows
}

// asyncRun is an archc process the test acts on while it runs.
type asyncRun struct {
	args           []string
	cmd            *exec.Cmd
	stdout, stderr *watchedOutput
	started        time.Time
	exited         chan struct{}
	err            error
}

// start runs archc in dir in the background; wait collects it.
func (e *env) start(t *testing.T, dir string, args ...string) *asyncRun {
	t.Helper()
	run := &asyncRun{args: args, stdout: newWatchedOutput(), stderr: newWatchedOutput(), exited: make(chan struct{})}
	run.cmd = exec.Command(e.bin, args...)
	run.cmd.Dir, run.cmd.Env = dir, e.environ()
	run.cmd.Stdout, run.cmd.Stderr = run.stdout, run.stderr
	run.started = time.Now()
	require.NoError(t, run.cmd.Start())
	go func() { run.err = run.cmd.Wait(); close(run.exited) }()
	t.Cleanup(func() {
		if !run.done() {
			_ = run.cmd.Process.Kill()
			<-run.exited
		}
	})
	return run
}

func (run *asyncRun) done() bool {
	select {
	case <-run.exited:
		return true
	default:
		return false
	}
}

// wait waits at most 5 minutes for the run to end.
func (run *asyncRun) wait(t *testing.T) result {
	t.Helper()
	select {
	case <-run.exited:
	case <-time.After(5 * time.Minute):
		_ = run.cmd.Process.Kill()
		<-run.exited
		t.Fatalf("archc %s did not end within 5 minutes", strings.Join(run.args, " "))
	}
	r := result{stdout: run.stdout.String(), stderr: run.stderr.String(), took: time.Since(run.started)}
	var ee *exec.ExitError
	switch {
	case errors.As(run.err, &ee):
		r.code = ee.ExitCode()
	case run.err != nil:
		t.Fatalf("run archc %s: %v", strings.Join(run.args, " "), run.err)
	}
	t.Logf("archc %s: exit %d in %s\nstdout:\n%s\nstderr (tail):\n%s", strings.Join(run.args, " "), r.code, r.took.Round(time.Millisecond), r.stdout, tail(r.stderr, 40))
	return r
}

// assertTags checks that every ref (repo:tag in the push registry) is one index with a
// linux/amd64 and a linux/arm64 manifest, each built for its own architecture, and returns
// that index.
func (rig *farmRig) assertTags(t *testing.T, refs []string) farmIndex {
	t.Helper()
	var first farmIndex
	for i, ref := range refs {
		repo, tag, _ := strings.Cut(ref, ":")
		require.True(t, rig.reg.exists(t, repo, tag), "%s is not in the registry", ref)
		img := rig.reg.image(t, repo, tag)
		idx := rig.reg.index(t, repo, tag)
		require.ElementsMatch(t, []string{"linux/amd64", "linux/arm64"}, slices.Collect(maps.Keys(idx.Manifests)), ref)
		for p, want := range map[string]string{"linux/amd64": "x86_64", "linux/arm64": "aarch64"} {
			arch, err := rig.reg.file(t, repo, img.Manifests[p], "arch")
			require.NoError(t, err, "%s %s", ref, p)
			assert.Equal(t, want, strings.TrimSpace(arch), "uname -m in %s's %s", ref, p)
		}
		if i == 0 {
			first = idx
			continue
		}
		assert.Equal(t, first.Digest, idx.Digest, "%s and %s are different indexes", refs[0], ref)
	}
	return first
}

// farmIndex is a pushed index: its digest and each platform's manifest digest.
type farmIndex struct {
	Digest    string
	Manifests map[string]string // "linux/arm64" → "sha256:…"
}

// index reads repo:ref as an index (attestation manifests left out).
func (c registryClient) index(t *testing.T, repo, ref string) farmIndex {
	t.Helper()
	body, h := c.get(t, "/v2/"+repo+"/manifests/"+ref)
	var idx ocispecs.Index
	require.NoError(t, json.Unmarshal(body, &idx))
	out := farmIndex{Digest: h.Get("Docker-Content-Digest"), Manifests: map[string]string{}}
	for _, d := range idx.Manifests {
		if d.Platform != nil && d.Platform.OS != "unknown" {
			out.Manifests[d.Platform.OS+"/"+d.Platform.Architecture] = d.Digest.String()
		}
	}
	require.NotEmpty(t, out.Manifests, "%s:%s is not an index:\n%s", repo, ref, body)
	return out
}

// delete deletes repo's manifest by digest and returns the registry's status.
func (c registryClient) delete(t *testing.T, repo, dgst string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodDelete, c.base+"/v2/"+repo+"/manifests/"+dgst, nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second}).Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// farmMetadata is what `apply --metadata-file` writes (format_version 1), as far as the
// farm tests read it.
type farmMetadata struct {
	FormatVersion int    `json:"format_version"`
	Status        string `json:"status"`
	Error         string `json:"error"`
	Components    map[string]struct {
		Digest    string            `json:"digest"`
		Tags      map[string]string `json:"tags"`
		Platforms map[string]struct {
			Builder      string   `json:"builder"`
			Status       string   `json:"status"`
			Digest       string   `json:"digest"`
			LostBuilders []string `json:"lost_builders"`
		} `json:"platforms"`
	} `json:"components"`
}

func readFarmMetadata(t *testing.T, path string) farmMetadata {
	t.Helper()
	raw, err := os.ReadFile(path)
	require.NoError(t, err, "the --metadata-file")
	var md farmMetadata
	require.NoError(t, json.Unmarshal(raw, &md), "%s", raw)
	t.Logf("metadata file:\n%s", raw)
	require.Equal(t, 1, md.FormatVersion, "format_version")
	return md
}
