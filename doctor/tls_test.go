package doctor

import (
	"fmt"
	"testing"

	"github.com/archc-dev/archc/internal/testenv"
)

// TestMirrorTLS runs the mirror check against a real https mirror (a self-signed front on
// a seeded docker-registry): an untrusted certificate and a plain-HTTP server behind an
// https:// URL are named with their fix; the mirror's own ca or insecure block makes it pass.
func TestMirrorTLS(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	front := testenv.StartTLSFront(t, sd.reg.URL)
	host, ca := front.Host, front.CAFile
	plainAsTLS := "https://" + sd.reg.Host // an HTTP server written as https://

	tests := []struct {
		name    string
		mirror  string
		extra   string // registry block for the mirror's own host
		verdict Verdict
		checked string
		cause   string
		fix     string
	}{
		{name: "untrusted certificate", mirror: front.URL, verdict: Fail,
			cause: "TLS: the certificate is signed by", fix: `ca = "certs/ca.pem" (or insecure = true to skip verification) in a registry "` + host + `" block`},
		{name: "mirror's own ca", mirror: front.URL, extra: fmt.Sprintf("registry %q {\n  ca = %q\n}\n", host, ca),
			verdict: OK, checked: "TLS, certificate verified"},
		{name: "mirror's own insecure", mirror: front.URL, extra: fmt.Sprintf("registry %q {\n  insecure = true\n}\n", host),
			verdict: OK, checked: "TLS without verification (insecure = true)"},
		{name: "plain HTTP behind https://", mirror: plainAsTLS, verdict: Fail,
			cause: "the server speaks plain HTTP", fix: "write it as http://" + sd.reg.Host},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpec(t, mirrorSpec(tt.mirror)+tt.extra)
			f := runOneNamed(t, s, testOptions(t, s.Dir), "mirror "+tt.mirror)
			assertFinding(t, f, tt.verdict, tt.checked, tt.cause, tt.fix)
		})
	}
}
