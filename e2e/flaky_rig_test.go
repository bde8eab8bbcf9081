package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
)

// flakyComponents is the fault workload's size: this many components, each FROM its own
// busybox-based base, each built for flakyPlatforms (the measured workload).
const flakyComponents = 5

var flakyPlatforms = []string{"linux/amd64", "linux/arm64"}

// defaultFaultSeed seeds the faults unless ARCHC_FAULT_SEED says otherwise.
const defaultFaultSeed = 20261201

// faultSeed is the suite's base seed; each run derives its own from it (see runSeed), so
// ARCHC_FAULT_SEED=N with -run NAME replays a failing run's faults (up to request order).
func faultSeed(t testing.TB) int64 {
	t.Helper()
	s := os.Getenv("ARCHC_FAULT_SEED")
	if s == "" {
		return defaultFaultSeed
	}
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err, "ARCHC_FAULT_SEED")
	return n
}

// flakyKind is one kind of fault, injected alone.
type flakyKind struct {
	name   string
	mirror func(seed int64) testenv.Fault // on the mirror's front; nil: healthy
	push   func(seed int64) testenv.Fault // on the push registry's front; nil: healthy
	hole   bool                           // a mirror that never answers comes first
	// retried: the fault withholds an answer, so a successful run must have asked the same
	// path again (a stall answers late, and a blackholed mirror is skipped, not retried).
	retried bool
}

func status503(seed int64, rate float64) testenv.Fault {
	return testenv.Random(seed, rate, testenv.Status(503, nil))
}

// flakyKinds are the fault kinds, one per scenario.
var flakyKinds = []flakyKind{
	{name: "503 on 20%", mirror: func(s int64) testenv.Fault { return status503(s, 0.20) }, retried: true},
	{name: "reset on 15%", mirror: func(s int64) testenv.Fault { return testenv.Random(s, 0.15, testenv.Reset()) }, retried: true},
	{name: "429 Retry-After 1s on 20%", mirror: func(s int64) testenv.Fault {
		return testenv.Random(s, 0.20, testenv.TooMany(time.Second))
	}, retried: true},
	{name: "2s stall on 15%", mirror: func(s int64) testenv.Fault { return testenv.Random(s, 0.15, testenv.Slow(2*time.Second)) }},
	{name: "blackholed first mirror", hole: true},
	{name: "503 on 20% of pushes", push: func(s int64) testenv.Fault { return status503(s, 0.20) }, retried: true},
}

// flakyRig is the loopback network of the fault workload.
//
// Images are named UPSTREAM/library/bbN, where UPSTREAM ("127.0.0.1:PORT") is the registry
// label of a FaultProxy we control, and the spec says registry "UPSTREAM" { mirrors = [the
// faulty mirror], mirrors_only = true }. So "0 requests upstream" is a count at that proxy,
// for archc and its daemon alike. A docker.io label would make a fallback leave loopback
// (registry-1.docker.io), which the tests must never do, and could not be counted. The
// upstream answers every request with 503, as an air-gapped upstream fails: a fallback
// cannot rescue a run, and the count says whether one was tried.
type flakyRig struct {
	e        *env
	upstream *testenv.FaultProxy // the registry label itself: must see no request
	mirror   *testenv.FaultProxy // the mirror, in front of e.mirror
	hole     *testenv.FaultProxy // a first mirror that never answers (blackhole kind)
	push     *testenv.FaultProxy // the push registry's front, in front of e.push
	lock     []byte              // archbuild.lock.hcl resolved through a healthy mirror
}

func newFlakyRig(t *testing.T, e *env) *flakyRig {
	t.Helper()
	g := &flakyRig{
		e:        e,
		upstream: testenv.StartFaultProxy(t, e.mirror.URL),
		mirror:   testenv.StartFaultProxy(t, e.mirror.URL),
		hole:     testenv.StartFaultProxy(t, e.mirror.URL),
		push:     testenv.StartFaultProxy(t, e.push.URL),
	}
	g.upstream.Set(testenv.Status(503, nil))
	g.hole.Set(testenv.Blackhole())
	pushFlakyBases(t, e.mirror)

	// The lock the "with lock" runs start from: `archc lock` through the healthy mirror.
	re, dir := g.fresh(t)
	write(t, dir, g.files(flakyKind{}, "lock"))
	r := re.run(t, dir, "lock")
	require.Equal(t, 0, r.code, r.stderr)
	var err error
	g.lock, err = os.ReadFile(filepath.Join(dir, registry.LockFileName))
	require.NoError(t, err)
	require.Zero(t, g.upstream.Count(""), "archc lock asked the mirrors_only upstream")
	return g
}

// fresh returns a copy of e with its own builder state and content cache (a cold run: a new
// buildkitd with an empty cache, an empty archc cache) and a new project directory; the
// builder is stopped when the test ends.
func (g *flakyRig) fresh(t *testing.T) (*env, string) {
	t.Helper()
	// Short paths: the builder's unix socket lives in the state directory.
	base, err := os.MkdirTemp("", "archc-fl-")
	require.NoError(t, err)
	re := *g.e
	re.state, re.cache = filepath.Join(base, "state"), filepath.Join(base, "cache")
	dir := t.TempDir()
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	t.Cleanup(func() {
		if _, err := os.Stat(filepath.Join(dir, "archbuild.hcl")); err == nil {
			re.run(t, dir, "builder", "down")
		}
	})
	return &re, dir
}

// files is the project for kind k: the spec, pushing under repo, and one Dockerfile per
// component.
func (g *flakyRig) files(k flakyKind, repo string) map[string]string {
	mirrors := []string{g.mirror.URL}
	if k.hole {
		mirrors = []string{g.hole.URL, g.mirror.URL}
	}
	var spec strings.Builder
	fmt.Fprintf(&spec, "platforms = [%q, %q]\n", flakyPlatforms[0], flakyPlatforms[1])
	fmt.Fprintf(&spec, "registry %q {\n  mirrors      = [\"%s\"]\n  mirrors_only = true\n  http         = true\n}\n",
		g.upstream.Host, strings.Join(mirrors, `", "`))
	fmt.Fprintf(&spec, "registry %q { http = true }\n", g.push.Host)
	files := map[string]string{}
	for i := range flakyComponents {
		c := fmt.Sprintf("c%d", i)
		fmt.Fprintf(&spec, "component %q {\n  context = \"./%s\"\n  tags    = [\"%s/%s/%s:v1\"]\n}\n", c, c, g.push.Host, repo, c)
		files[c+"/Dockerfile"] = fmt.Sprintf("FROM %s/library/bb%d\nRUN uname -m > /arch && cat /etc/base-name > /base-seen\nCOPY . /src/\n", g.upstream.Host, i)
		files[c+"/data.txt"] = strings.Repeat(c+"\n", 100)
	}
	files["archbuild.hcl"] = spec.String()
	return files
}

// flakyRun is one cold run of the workload under one kind of fault.
type flakyRun struct {
	g    *flakyRig
	env  *env
	dir  string
	repo string
	res  result
	// The fault injectors' view of the last command.
	mirror, push, hole testenv.FaultStats
	upstream           int
}

// start prepares a cold run of the workload under k, seeded with seed, with or without the
// healthy lock, pushing under repo, and installs the faults; they stay set until clear.
func (g *flakyRig) start(t *testing.T, k flakyKind, seed int64, locked bool, repo string) *flakyRun {
	t.Helper()
	re, dir := g.fresh(t)
	files := g.files(k, repo)
	if locked {
		files[registry.LockFileName] = string(g.lock)
	}
	write(t, dir, files)
	g.clear()
	g.setFaults(k, seed)
	t.Logf("fault %q, seed %d (replay: ARCHC_FAULT_SEED=%d), lock file: %v", k.name, seed, faultSeed(t), locked)
	return &flakyRun{g: g, env: re, dir: dir, repo: repo}
}

// archc runs archc in the run's project and environment, and records what the fault
// injectors saw during it (the faults stay, the logs restart).
func (run *flakyRun) archc(t *testing.T, args ...string) result {
	t.Helper()
	g := run.g
	for _, p := range []*testenv.FaultProxy{g.mirror, g.push, g.hole, g.upstream} {
		p.ResetLog()
	}
	r := run.env.run(t, run.dir, args...)
	// The test log keeps a tail of stderr; ARCHC_E2E_LOG_DIR keeps all of it, per run.
	if d := os.Getenv("ARCHC_E2E_LOG_DIR"); d != "" {
		_ = os.WriteFile(filepath.Join(d, strings.ReplaceAll(t.Name(), "/", "_")+"-"+args[0]+".err"), []byte(r.stderr), 0o644)
	}
	run.mirror, run.push, run.hole, run.upstream = g.mirror.Stats(), g.push.Stats(), g.hole.Stats(), g.upstream.Count("")
	t.Logf("archc %s: mirror: %s; push: %s; blackholed mirror: %s; upstream: %d requests",
		args[0], run.mirror, run.push, run.hole, run.upstream)
	return r
}

// apply is a cold `archc apply`.
func (run *flakyRun) apply(t *testing.T) result {
	t.Helper()
	run.res = run.archc(t, "apply", "--progress=plain")
	return run.res
}

// setFaults installs k's faults, seeded.
func (g *flakyRig) setFaults(k flakyKind, seed int64) {
	if k.mirror != nil {
		g.mirror.Set(k.mirror(seed))
	}
	if k.push != nil {
		g.push.Set(k.push(seed))
	}
}

// clear makes the mirror and the push registry healthy and empties every request log.
func (g *flakyRig) clear() {
	g.mirror.Clear()
	g.push.Clear()
	for _, p := range []*testenv.FaultProxy{g.mirror, g.push, g.hole, g.upstream} {
		p.ResetLog()
	}
}

// runSeed derives a run's seed from the suite's: scenario i, run j.
func runSeed(base int64, i, j int) int64 { return base + int64(i)*100 + int64(j) }

// pushed reports which components of a run were pushed as correct two-platform indexes.
func (g *flakyRig) pushed(t *testing.T, repo string) int {
	t.Helper()
	reg := registryClient{base: g.e.push.URL}
	n := 0
	for i := range flakyComponents {
		if reg.exists(t, fmt.Sprintf("%s/c%d", repo, i), "v1") {
			n++
		}
	}
	return n
}

// assertPushed checks every component's tag: a two-platform index whose images ran on their
// platform, FROM their own base.
func (g *flakyRig) assertPushed(t *testing.T, repo string) {
	t.Helper()
	reg := registryClient{base: g.e.push.URL}
	for i := range flakyComponents {
		name := fmt.Sprintf("%s/c%d", repo, i)
		img := reg.image(t, name, "v1")
		require.Len(t, img.Manifests, len(flakyPlatforms), name)
		for p, uname := range map[string]string{"linux/amd64": "x86_64", "linux/arm64": "aarch64"} {
			require.Contains(t, img.Manifests, p, name)
			assert.Equal(t, strings.TrimPrefix(p, "linux/"), img.Configs[p].Architecture, name)
			assert.Contains(t, img.Configs[p].Config.Env, fmt.Sprintf("BASE=bb%d", i), "%s %s: built FROM its own base", name, p)
			arch, err := reg.file(t, name, img.Manifests[p], "arch")
			require.NoError(t, err, name)
			assert.Equal(t, uname, strings.TrimSpace(arch), "%s: uname -m in a %s RUN", name, p)
		}
	}
}

// pushFlakyBases pushes the workload's bases to reg as library/bbN:latest.
func pushFlakyBases(t *testing.T, reg *testenv.Registry) {
	t.Helper()
	testenv.Require(t, testenv.PartBusyboxAMD64)
	testenv.Require(t, testenv.PartBusyboxARM64)
	bb, err := testenv.BusyboxContent()
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range flakyComponents {
		name := fmt.Sprintf("bb%d", i)
		c, err := busyboxVariant(bb, name)
		require.NoError(t, err)
		_, err = c.Push(ctx, reg.URL, "library/"+name, "latest")
		require.NoError(t, err)
	}
}

// busyboxVariant is busybox with one more layer holding /etc/base-name and BASE=name in its
// env: each base has its own index, manifests, config and one blob, while the large busybox
// layer is shared, as on a real mirror.
func busyboxVariant(bb *testenv.Content, name string) (*testenv.Content, error) {
	layer, diffID, err := oneFileLayer("etc/base-name", name+"\n")
	if err != nil {
		return nil, err
	}
	out := &testenv.Content{}
	idx := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex}
	idx.SchemaVersion = 2
	for _, pc := range bb.Platforms {
		var cfg ocispecs.Image
		if err := json.Unmarshal(pc.Config.Data, &cfg); err != nil {
			return nil, err
		}
		cfg.RootFS.DiffIDs = append(slices.Clone(cfg.RootFS.DiffIDs), diffID)
		cfg.Config.Env = append(slices.Clone(cfg.Config.Env), "BASE="+name)
		cb, err := json.Marshal(cfg)
		if err != nil {
			return nil, err
		}
		v := testenv.PlatformContent{Platform: pc.Platform, Config: testenv.Blob{MediaType: pc.Config.MediaType, Data: cb},
			Layers: append(slices.Clone(pc.Layers), layer)}
		var m ocispecs.Manifest
		if err := json.Unmarshal(pc.Manifest.Data, &m); err != nil {
			return nil, err
		}
		m.Config = v.Config.Descriptor()
		m.Layers = append(slices.Clone(m.Layers), layer.Descriptor())
		mb, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		v.Manifest = testenv.Blob{MediaType: pc.Manifest.MediaType, Data: mb}
		d, p := v.Manifest.Descriptor(), pc.Platform
		d.Platform = &p
		idx.Manifests = append(idx.Manifests, d)
		out.Platforms = append(out.Platforms, v)
	}
	ib, err := json.Marshal(idx)
	if err != nil {
		return nil, err
	}
	out.Index = testenv.Blob{MediaType: ocispecs.MediaTypeImageIndex, Data: ib}
	return out, nil
}

// oneFileLayer is a deterministic gzip tar layer holding one file, and its diff ID.
func oneFileLayer(name, content string) (testenv.Blob, digest.Digest, error) {
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	h := &tar.Header{Name: name, Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(content)),
		ModTime: time.Unix(0, 0).UTC(), Format: tar.FormatPAX}
	if err := tw.WriteHeader(h); err != nil {
		return testenv.Blob{}, "", err
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		return testenv.Blob{}, "", err
	}
	if err := tw.Close(); err != nil {
		return testenv.Blob{}, "", err
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return testenv.Blob{}, "", err
	}
	if err := zw.Close(); err != nil {
		return testenv.Blob{}, "", err
	}
	return testenv.Blob{MediaType: ocispecs.MediaTypeImageLayerGzip, Data: gz.Bytes()}, digest.FromBytes(raw.Bytes()), nil
}
