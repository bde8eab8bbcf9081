package doctor

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// TestDNS looks names up with an injected resolver (no real DNS is ever asked): a name
// that resolves, one that does not, and names that need no lookup.
func TestDNS(t *testing.T) {
	t.Parallel()
	body := `
platforms = ["linux/amd64"]
proxy {
  https_proxy = "http://127.0.0.1:9"
  no_proxy    = ["127.0.0.1", ".archc.test"]
}
registry "docker.io" {
  mirrors = ["https://mirror.archc.test:5443"]
}
registry "unused.archc.test" {
  http = true
}
component "app" {
  context = "./app"
  tags    = ["registry.archc.test:5000/app:1"]
}
`
	s := loadSpec(t, body)
	tests := []struct {
		name, host string
		table      map[string][]string
		verdict    Verdict
		checked    string
		cause      string
		fix        string
	}{
		{name: "resolves", host: "mirror.archc.test", table: map[string][]string{"mirror.archc.test": {"127.0.0.2", "127.0.0.1"}},
			verdict: OK, checked: "mirror.archc.test (mirror of docker.io) → 127.0.0.1, 127.0.0.2 via fake resolver"},
		{name: "does not resolve", host: "registry.archc.test", verdict: Fail, checked: "registry.archc.test (registry) via fake resolver",
			cause: "registry.archc.test does not resolve: no such host", fix: "fix the name in the spec, add it to DNS or /etc/hosts, or reach it through the proxy"},
		{name: "proxied", host: "registry-1.docker.io", verdict: OK,
			checked: "registry-1.docker.io (registry): not looked up: reached through the proxy http://127.0.0.1:9, which resolves it"},
		{name: "unused registry block", host: "unused.archc.test", verdict: OK, checked: "not looked up: no base image or tag uses it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o := testOptions(t, s.Dir)
			o.Resolver = fakeResolver(tt.table)
			assertFinding(t, runOneNamed(t, s, o, "dns "+tt.host), tt.verdict, tt.checked, tt.cause, tt.fix)
		})
	}
	t.Run("no check for IP addresses", func(t *testing.T) {
		t.Parallel()
		for _, c := range Checks(s, testOptions(t, s.Dir)) {
			assert.NotEqual(t, "dns 127.0.0.1", c.Name)
		}
	})
}

// TestProxy checks the proxy against a real forward proxy on loopback: one that tunnels,
// one that refuses CONNECT, one that wants credentials, and a port nothing listens on.
func TestProxy(t *testing.T) {
	t.Parallel()
	reg := testenv.StartRegistry(t)
	open := testenv.StartHTTPProxy(t)
	noConnect := testenv.StartHTTPProxy(t, testenv.WithoutConnect())
	authed := testenv.StartHTTPProxy(t, testenv.WithProxyAuth("builder", "s3cret"))
	tests := []struct {
		name    string
		url     string
		verdict Verdict
		checked string
		cause   string
		fix     string
	}{
		{name: "tunnels", url: open.URL, verdict: OK, checked: fmt.Sprintf("CONNECT %s → 200 (tunnel open)", reg.Host)},
		{name: "credentials in the URL", url: authed.URLWithAuth(), verdict: OK, checked: "→ 200 (tunnel open)"},
		{name: "refuses CONNECT", url: noConnect.URL, verdict: Fail, checked: "→ 405",
			cause: "the proxy refuses CONNECT (HTTP 405): https registries cannot be reached through it", fix: "allow CONNECT to port 443 on the proxy (tinyproxy: ConnectPort 443"},
		{name: "wants credentials", url: authed.URL, verdict: Fail, checked: "→ 407",
			cause: "the proxy wants credentials (407 Proxy Authentication Required)", fix: `https_proxy = "http://USER:PASSWORD@` + authed.Host},
		{name: "nothing listens", url: "http://127.0.0.1:9", verdict: Fail, checked: "TCP connect 127.0.0.1:9",
			cause: "connection refused", fix: "start the proxy on 127.0.0.1:9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpec(t, fmt.Sprintf("proxy {\n  https_proxy = %q\n  no_proxy = [\"127.0.0.1\"]\n}\n", tt.url))
			o := testOptions(t, s.Dir)
			o.ConnectTarget = reg.Host // a loopback target: the test proxies forward nothing else
			fs := runNamed(t, s, o, "proxy ")
			require.Len(t, fs, 1)
			assertFinding(t, fs[0], tt.verdict, tt.checked, tt.cause, tt.fix)
			assert.NotContains(t, fmt.Sprint(fs), "s3cret", "proxy passwords never appear")
		})
	}
}

// TestNoProxy warns when no_proxy misses loopback or in-house registries.
func TestNoProxy(t *testing.T) {
	t.Parallel()
	spec := func(noProxy string) string {
		return fmt.Sprintf(`
proxy {
  https_proxy = "http://127.0.0.1:9"
  no_proxy    = [%s]
}
registry "127.0.0.1:5001" {
  http = true
}
registry "nexus.example.internal:8082" {
  insecure = true
}
`, noProxy)
	}
	tests := []struct {
		name, noProxy string
		verdict       Verdict
		checked       string
		cause, fix    string
	}{
		{name: "covered", noProxy: `"localhost", "127.0.0.1", ".internal"`, verdict: OK, checked: "against 2 loopback/in-house hosts: all covered"},
		{name: "CIDR and domain", noProxy: `"127.0.0.0/8", "example.internal"`, verdict: OK, checked: "all covered"},
		{name: "nothing", noProxy: ``, verdict: Warn,
			cause: "not covered by no_proxy: 127.0.0.1:5001 (loopback registry), nexus.example.internal:8082 (in-house registry, insecure)",
			fix:   `add "127.0.0.1", ".example.internal" to no_proxy in the proxy block`},
		{name: "other port", noProxy: `"127.0.0.1:5000", "nexus.example.internal:8082"`, verdict: Warn,
			cause: "not covered by no_proxy: 127.0.0.1:5001", fix: `add "127.0.0.1" to no_proxy`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpec(t, spec(tt.noProxy))
			assertFinding(t, runOneNamed(t, s, testOptions(t, s.Dir), "no_proxy"), tt.verdict, tt.checked, tt.cause, tt.fix)
		})
	}
}
