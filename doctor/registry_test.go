package doctor

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// seeded is a real docker-registry on loopback holding library/busybox:1.36.
type seeded struct {
	reg *testenv.Registry
	img testenv.Image
}

func startSeeded(t *testing.T) seeded {
	t.Helper()
	reg := testenv.StartRegistry(t)
	img := testenv.PushTiny(t, reg, "library/busybox", "1.36", "linux/amd64", "linux/arm64")
	return seeded{reg: reg, img: img}
}

// TestMirrorChecks runs the mirror, mirror-images, lock and clock checks against a real
// registry, a blackhole in front of it, and an empty registry.
func TestMirrorChecks(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	empty := testenv.StartRegistry(t)
	moved := testenv.StartRegistry(t)
	testenv.PushTiny(t, moved, "library/busybox", "1.36", "linux/amd64", "linux/arm64")
	testenv.PushTiny(t, moved, "library/busybox", "1.36", "linux/amd64") // the tag moves

	tests := []struct {
		name      string
		mirror    func(t *testing.T) string
		platforms []string
		noLock    bool
		now       time.Duration // added to the clock
		check     string        // name prefix
		verdict   Verdict
		checked   string
		cause     string
		fix       string
	}{
		{name: "mirror answers", mirror: func(*testing.T) string { return sd.reg.URL }, check: "mirror http",
			verdict: OK, checked: "/v2/ → 200, plain HTTP as configured"},
		{name: "blackholed mirror", mirror: blackhole, check: "mirror http",
			verdict: Fail, cause: "no answer within 5s: the mirror accepts connections and never answers", fix: "restart or repair the mirror service, or remove"},
		{name: "refused mirror", mirror: func(*testing.T) string { return "http://127.0.0.1:9" }, check: "mirror http",
			verdict: Fail, cause: "connection refused", fix: "start the mirror"},
		{name: "mirror serves the pins", mirror: func(*testing.T) string { return sd.reg.URL }, platforms: []string{"linux/amd64", "linux/arm64"},
			check: "mirror-images", verdict: OK, checked: "?ns=docker.io → all 3 pinned manifests served"},
		{name: "mirror lacks the pins", mirror: func(*testing.T) string { return empty.URL }, check: "mirror-images",
			verdict: Fail, cause: "the mirror lacks docker.io/library/busybox:1.36 (index sha256:", fix: "skopeo copy --all docker://docker.io/library/busybox:1.36"},
		{name: "lock complete and current", mirror: func(*testing.T) string { return sd.reg.URL }, platforms: []string{"linux/amd64", "linux/arm64"},
			check: "lock", verdict: OK, checked: "pins all 1 base images for their platforms (2 manifests); 1 current"},
		{name: "no lock", mirror: func(*testing.T) string { return sd.reg.URL }, noLock: true, check: "lock",
			verdict: Warn, cause: "there is no lock: every apply resolves the tags again", fix: "run `archc lock` and commit archbuild.lock.hcl"},
		{name: "lock lacks a platform", mirror: func(*testing.T) string { return sd.reg.URL }, platforms: []string{"linux/amd64", "linux/s390x"},
			check: "lock", verdict: Warn, cause: "not pinned: docker.io/library/busybox:1.36 (linux/s390x)", fix: "run `archc lock` (it adds the missing pins and moves none)"},
		{name: "tag moved", mirror: func(*testing.T) string { return moved.URL }, check: "lock",
			verdict: Warn, cause: "tags moved: docker.io/library/busybox:1.36 now points to sha256:", fix: "archc lock --update --image REF"},
		{name: "lock offline", mirror: func(*testing.T) string { return "http://127.0.0.1:9" }, check: "lock",
			verdict: Warn, checked: "0 current, 1 not checked (registry unreachable: docker.io/library/busybox:1.36)", cause: "was not checked", fix: "archc doctor` again"},
		{name: "clock in step", mirror: func(*testing.T) string { return sd.reg.URL }, check: "clock",
			verdict: OK, checked: "/v2/ vs this machine:"},
		{name: "clock 1m ahead", mirror: func(*testing.T) string { return sd.reg.URL }, now: time.Minute, check: "clock",
			verdict: Warn, cause: "the clock is off by 1m" /* ±1s: Date has whole seconds */, fix: "timedatectl set-ntp true"},
		{name: "clock 10m behind", mirror: func(*testing.T) string { return sd.reg.URL }, now: -10 * time.Minute, check: "clock",
			verdict: Fail, cause: "(more than 5m0s): registry tokens and TLS certificates are rejected", fix: "timedatectl set-ntp true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpec(t, mirrorSpec(tt.mirror(t), tt.platforms...))
			if !tt.noLock {
				writeLock(t, s, sd.img, sd.reg.Host)
			}
			o := testOptions(t, s.Dir)
			o.Now = func() time.Time { return time.Now().Add(tt.now) }
			fs := runNamed(t, s, o, tt.check)
			require.Len(t, fs, 1)
			assertFinding(t, fs[0], tt.verdict, tt.checked, tt.cause, tt.fix)
		})
	}
}

func blackhole(t *testing.T) string {
	reg := testenv.StartRegistry(t)
	fp := testenv.StartFaultProxy(t, reg.URL)
	fp.Set(testenv.Blackhole())
	return fp.URL
}

// assertFinding checks the verdict and that Checked, Cause and Fix contain the given texts
// (an empty want means: the field is empty for OK findings, anything otherwise).
func assertFinding(t *testing.T, f Finding, verdict Verdict, checked, cause, fix string) {
	t.Helper()
	assert.Equal(t, verdict, f.Verdict, "%s: %s / %s / %s", f.Name, f.Checked, f.Cause, f.Fix)
	assert.Contains(t, f.Checked, checked)
	assert.Contains(t, f.Cause, cause)
	assert.Contains(t, f.Fix, fix)
	if verdict == OK {
		assert.Empty(t, f.Cause)
		assert.Empty(t, f.Fix)
	} else {
		assert.NotEmpty(t, f.Cause, "a problem names its cause")
		assert.NotEmpty(t, f.Fix, "a problem comes with a fix")
	}
}

// TestRealm checks the token realm of a mirror that answers 401: reachable through the
// spec's proxy, or a name that does not resolve without one.
func TestRealm(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	ta := testenv.StartTokenAuth(t, sd.reg.URL)
	proxy := testenv.StartHTTPProxy(t, testenv.WithHostOverride(testenv.DefaultRealmHost, ta.TokenHost))

	t.Run("realm through the proxy", func(t *testing.T) {
		t.Parallel()
		s := loadSpec(t, mirrorSpec(ta.URL)+"proxy {\n  http_proxy = \""+proxy.URL+"\"\n  https_proxy = \""+proxy.URL+"\"\n}\n")
		writeLock(t, s, sd.img, sd.reg.Host)
		f := runOneNamed(t, s, testOptions(t, s.Dir), "mirror "+ta.URL)
		assertFinding(t, f, OK, "→ 401, plain HTTP as configured (http://); token realm http://auth.archc.test/token → 200 through the proxy "+proxy.URL, "", "")
		assert.Equal(t, 1, proxy.Forwarded(testenv.DefaultRealmHost), "the realm was asked through the proxy")

		img := runOneNamed(t, s, testOptions(t, s.Dir), "mirror-images "+ta.URL)
		assertFinding(t, img, OK, "all 2 pinned manifests served", "", "")
		assert.Positive(t, ta.TokensIssued(), "HEADs answered the 401 with a token")
	})
	t.Run("realm without a proxy", func(t *testing.T) {
		t.Parallel()
		s := loadSpec(t, mirrorSpec(ta.URL))
		f := runOneNamed(t, s, testOptions(t, s.Dir), "mirror "+ta.URL)
		assertFinding(t, f, Warn, "token realm http://auth.archc.test/token",
			"sends clients for tokens to http://auth.archc.test/token, but auth.archc.test does not resolve (fake resolver: no such host) and the spec has no proxy for it: pulls will fail with `failed to fetch oauth token`",
			"add a proxy block through which auth.archc.test is reachable")
	})
}

// TestClockNoRegistry: with nothing to ask, the clock is not checked (and not an error).
func TestClockNoRegistry(t *testing.T) {
	t.Parallel()
	s := loadSpec(t, "component \"app\" {\n  context = \"./app\"\n}\n")
	f := runOneNamed(t, s, testOptions(t, s.Dir), "clock")
	assertFinding(t, f, OK, "no mirror or in-house registry to compare with", "", "")
}

// TestMirrorImagesNamespace: manifests are asked for by digest with ?ns=REGISTRY, as
// containerd and BuildKit ask mirrors.
func TestMirrorImagesNamespace(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	up, err := url.Parse(sd.reg.URL)
	require.NoError(t, err)
	var mu sync.Mutex
	var seen []string
	rp := httputil.NewSingleHostReverseProxy(up)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.RequestURI())
		mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	s := loadSpec(t, mirrorSpec(front.URL))
	writeLock(t, s, sd.img, sd.reg.Host)
	assertFinding(t, runOneNamed(t, s, testOptions(t, s.Dir), "mirror-images "+front.URL), OK, "all 2 pinned manifests served", "", "")
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, seen, "HEAD /v2/library/busybox/manifests/"+sd.img.Index.String()+"?ns=docker.io")
	assert.Contains(t, seen, "HEAD /v2/library/busybox/manifests/"+sd.img.Platforms["linux/amd64"].Manifest.String()+"?ns=docker.io")
}
