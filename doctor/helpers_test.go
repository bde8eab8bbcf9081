package doctor

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// baseRef is the base image of the test specs' Dockerfile, as the lock names it.
const baseRef = "docker.io/library/busybox:1.36"

// fakeResolver answers from a table and says "no such host" for everything else, so no
// test ever asks a real DNS server.
func fakeResolver(table map[string][]string) Resolver {
	return Resolver{Name: "fake resolver", LookupHost: func(_ context.Context, host string) ([]string, error) {
		if a, ok := table[host]; ok {
			return a, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}}
}

// loopbackDial refuses every address that is not a loopback IP, without resolving it.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("test dialer: %s is not a loopback address", addr)
	}
	return (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
}

// testOptions keep every check on loopback with a fake resolver and a private cache.
func testOptions(t *testing.T, dir string) Options {
	t.Helper()
	cache, err := registry.OpenCache(t.TempDir())
	require.NoError(t, err)
	return Options{Resolver: fakeResolver(nil), Dial: loopbackDial, Cache: cache,
		LockPath: filepath.Join(dir, registry.LockFileName), BuildPlatform: "linux/amd64"}
}

// loadSpec writes archbuild.hcl (body) and a component "app" whose Dockerfile starts
// FROM busybox:1.36 (unless the body defines components itself), then loads it.
func loadSpec(t *testing.T, body string) *spec.Spec {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "app"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM busybox:1.36\nRUN true\n"), 0o644))
	if !strings.Contains(body, "component ") {
		body += "\ncomponent \"app\" {\n  context = \"./app\"\n}\n"
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "archbuild.hcl"), []byte(body), 0o644))
	s, diags := spec.Load(spec.LoadOptions{Files: []string{filepath.Join(dir, "archbuild.hcl")}})
	require.False(t, diags.HasErrors(), diags.Error())
	return s
}

// mirrorSpec is a spec whose docker.io comes only from mirror (a URL).
func mirrorSpec(mirror string, platforms ...string) string {
	if len(platforms) == 0 {
		platforms = []string{"linux/amd64"}
	}
	return fmt.Sprintf("platforms = [%s]\nregistry \"docker.io\" {\n  mirrors = [%q]\n  mirrors_only = true\n}\n",
		quoteList(platforms), mirror)
}

// writeLock pins baseRef to img in the spec's lock.
func writeLock(t *testing.T, s *spec.Spec, img testenv.Image, host string) {
	t.Helper()
	im := registry.Image{Ref: baseRef, Digest: img.Index, Host: host}
	for p, pi := range img.Platforms {
		im.Platforms = append(im.Platforms, registry.PlatformImage{Platform: p, Manifest: pi.Manifest, Config: pi.Config})
	}
	l := &registry.Lock{}
	l.Set(im)
	require.NoError(t, registry.WriteLock(filepath.Join(s.Dir, registry.LockFileName), l))
}

// runNamed runs the checks of s whose name starts with prefix and returns their findings.
func runNamed(t *testing.T, s *spec.Spec, o Options, prefix string) []Finding {
	t.Helper()
	var sel []Check
	for _, c := range Checks(s, o) {
		if strings.HasPrefix(c.Name, prefix) {
			sel = append(sel, c)
		}
	}
	require.NotEmpty(t, sel, "no check named %s*", prefix)
	return Run(context.Background(), sel).Findings
}

// runOneNamed runs the single check called name.
func runOneNamed(t *testing.T, s *spec.Spec, o Options, name string) Finding {
	t.Helper()
	for _, f := range runNamed(t, s, o, name) {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no check named %q", name)
	return Finding{}
}
