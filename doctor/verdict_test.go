package doctor

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
)

// loadSpecFrom is loadSpec with app's Dockerfile starting FROM from.
func loadSpecFrom(t *testing.T, body, from string) *spec.Spec {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM "+from+"\nRUN true\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(body+"\ncomponent \"app\" {\n  context = \"./app\"\n}\n"), 0o644))
	s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	require.False(t, diags.HasErrors(), diags.Error())
	return s
}

// withPlatforms sets platforms = ["linux/amd64"] unless body does.
func withPlatforms(body string) string {
	if strings.Contains(body, "platforms") {
		return body
	}
	return "platforms = [\"linux/amd64\"]\n" + body
}

// countingResolver is fakeResolver that counts the lookups of each name.
func countingResolver(table map[string][]string, asked *sync.Map) Resolver {
	r := fakeResolver(table)
	lookup := r.LookupHost
	r.LookupHost = func(ctx context.Context, host string) ([]string, error) {
		n, _ := asked.LoadOrStore(host, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
		return lookup(ctx, host)
	}
	return r
}

// TestUpstreamBehindMirror: the air-gapped setup (no route to registry-1.docker.io) is a
// warning while a mirror serves docker.io, nothing with mirrors_only, and a failure once no
// host is left, as `archc apply` then fails. "No route" is simulated with the resolver
// (no such host) or the dialer (a name that resolves, an address that cannot be dialled).
func TestUpstreamBehindMirror(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	resolves := map[string][]string{"registry-1.docker.io": {"192.0.2.1"}} // loopbackDial refuses it
	tests := []struct {
		name, body string
		table      map[string][]string
		check      string
		verdict    Verdict
		checked    string
		cause, fix string
	}{
		{name: "healthy mirror, no DNS upstream", body: fmt.Sprintf("registry \"docker.io\" {\n  mirrors = [%q]\n}\n", sd.reg.URL),
			check: "dns registry-1.docker.io", verdict: Warn,
			cause: "registry-1.docker.io does not resolve: no such host; builds use mirror " + sd.reg.URL + "; if it fails or lacks an image, there is no fallback to registry-1.docker.io"},
		{name: "healthy mirror, mirrors_only", body: mirrorSpec(sd.reg.URL),
			check: "dns registry-1.docker.io", verdict: OK, checked: "not looked up: mirrors_only: never contacted"},
		{name: "dead mirror, no DNS upstream", body: "registry \"docker.io\" {\n  mirrors = [\"http://127.0.0.1:9\"]\n}\n",
			check: "dns registry-1.docker.io", verdict: Fail, cause: "no mirror of docker.io answers either: pulling its images will fail"},
		{name: "dead mirror, no route upstream", body: "registry \"docker.io\" {\n  mirrors = [\"http://127.0.0.1:9\"]\n}\n", table: resolves,
			check: "mirror http://127.0.0.1:9", verdict: Fail,
			cause: "`archc apply` skips it and then has no host to pull docker.io images from: the registry itself cannot be reached either: registry-1.docker.io: "},
		{name: "dead mirror, mirrors_only", body: mirrorSpec("http://127.0.0.1:9"),
			check: "mirror http://127.0.0.1:9", verdict: Fail, cause: `registry "docker.io" is mirrors_only and no other mirror of it can serve them`},
		{name: "dead mirror, healthy second", body: fmt.Sprintf("registry \"docker.io\" {\n  mirrors = [\"http://127.0.0.1:9\", %q]\n  mirrors_only = true\n}\n", sd.reg.URL),
			check: "mirror http://127.0.0.1:9", verdict: Warn, cause: "`archc apply` skips it and pulls docker.io images from mirror " + sd.reg.URL,
			fix: "start the mirror"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpec(t, withPlatforms(tt.body))
			writeLock(t, s, sd.img, sd.reg.Host)
			o := testOptions(t, s.Dir)
			var asked sync.Map
			o.Resolver = countingResolver(tt.table, &asked)
			assertFinding(t, runOneNamed(t, s, o, tt.check), tt.verdict, tt.checked, tt.cause, tt.fix)
			if tt.verdict == OK {
				_, looked := asked.Load("registry-1.docker.io")
				assert.False(t, looked, "mirrors_only: the upstream is never asked about")
			}
		})
	}
}

// TestDeadMirrorRegistryAnswers: a dead mirror in front of a registry that answers is what
// apply survives (it skips the mirror), so it is a warning; the mirror's missing images
// likewise, as archc falls back to the registry.
func TestDeadMirrorRegistryAnswers(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	empty := testenv.StartRegistry(t)
	from := sd.reg.Host + "/library/busybox:1.36"
	for _, tt := range []struct {
		name, mirror, check, cause, extra string
	}{
		{name: "refused", mirror: "http://127.0.0.1:9", check: "mirror http://127.0.0.1:9",
			cause: fmt.Sprintf("`archc apply` skips it and pulls %s images from %s", sd.reg.Host, sd.reg.Host)},
		// A remote builder never uses the mirror either: builders read bases from archc.
		{name: "refused, remote builder", mirror: "http://127.0.0.1:9", check: "mirror http://127.0.0.1:9",
			extra: "builder \"far\" {\n  address = \"tcp://127.0.0.1:9\"\n}\n",
			cause: fmt.Sprintf("`archc apply` skips it and pulls %s images from %s", sd.reg.Host, sd.reg.Host)},
		{name: "lacks the image", mirror: empty.URL, check: "mirror-images " + empty.URL,
			cause: fmt.Sprintf("the mirror lacks %s (tag, not locked): archc falls back to %s for it", from, sd.reg.Host)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpecFrom(t, fmt.Sprintf("platforms = [\"linux/amd64\"]\nregistry %q {\n  http = true\n  mirrors = [%q]\n}\n", sd.reg.Host, tt.mirror)+tt.extra, from)
			assertFinding(t, runOneNamed(t, s, testOptions(t, s.Dir), tt.check), Warn, "", tt.cause, "")
		})
	}
}

// TestDeadProxy: a proxy that does not work fails only what goes through it. With the
// mirror and the push registry out of its way it is a warning naming what it carries;
// when pulls or pushes need it, a failure.
func TestDeadProxy(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	const dead = "http://127.0.0.1:9"
	proxy := fmt.Sprintf("proxy {\n  http_proxy = %q\n  https_proxy = %q\n  no_proxy = [\"127.0.0.1\", \"localhost\"]\n}\n", dead, dead)
	pushTo := "component \"app\" {\n  context = \"./app\"\n  tags = [\"registry.archc.test:5000/app:1\"]\n}\n"
	tests := []struct {
		name, body string
		verdict    Verdict
		cause      string
	}{
		{name: "mirror in no_proxy", body: mirrorSpec(sd.reg.URL) + proxy, verdict: Warn,
			cause: "connection refused (nothing listens there); nothing archc or the builder pulls or pushes needs it"},
		{name: "mirror in no_proxy, upstream behind it", body: fmt.Sprintf("registry \"docker.io\" {\n  mirrors = [%q]\n}\n", sd.reg.URL) + proxy, verdict: Warn,
			cause: "docker.io falls back through it (builds use mirror " + sd.reg.URL + "); RUN steps' network access"},
		{name: "pulls need it", body: proxy, verdict: Fail, cause: "it carries pulls from docker.io, which will fail"},
		{name: "pushes need it", body: mirrorSpec(sd.reg.URL) + proxy + pushTo, verdict: Fail,
			cause: "it carries pushes to registry.archc.test:5000, which will fail"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpec(t, withPlatforms(tt.body))
			writeLock(t, s, sd.img, sd.reg.Host)
			assertFinding(t, runOneNamed(t, s, testOptions(t, s.Dir), "proxy "+dead), tt.verdict, "TCP connect 127.0.0.1:9", tt.cause, "start the proxy on 127.0.0.1:9")
		})
	}
}

// TestMirrorTransient503: one 503 on /v2/ does not make a mirror dead; doctor asks
// registry.CheckMirror, apply's own rule, whose retries reach the mirror again.
func TestMirrorTransient503(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	up, err := url.Parse(sd.reg.URL)
	require.NoError(t, err)
	rp := httputil.NewSingleHostReverseProxy(up)
	var v2 atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v2/" && v2.Add(1) == 1 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	s := loadSpec(t, mirrorSpec(front.URL))
	writeLock(t, s, sd.img, sd.reg.Host)
	f := runOneNamed(t, s, testOptions(t, s.Dir), "mirror "+front.URL)
	assertFinding(t, f, OK, "/v2/ → 200", "", "")
	assert.GreaterOrEqual(t, v2.Load(), int64(2), "the retry reached the mirror")
}

// TestLockCheckedNothing: a complete lock whose tags no registry could confirm is a
// warning that says so, not a ✓.
func TestLockCheckedNothing(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	s := loadSpec(t, mirrorSpec("http://127.0.0.1:9"))
	writeLock(t, s, sd.img, sd.reg.Host)
	f := runOneNamed(t, s, testOptions(t, s.Dir), "lock")
	assertFinding(t, f, Warn, "0 current, 1 not checked", "whether the pinned tags moved was not checked: no registry answered",
		"builds use the pins as they are")
}
