package registry

import (
	"context"
	"errors"
	"testing"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTLSMirrorSettings: an https mirror with a self-signed certificate gets its TLS
// settings only from its own registry block (as in buildkitd.toml), never from the
// registry it mirrors. The failure's hint and MirrorSettingNotes say so.
func TestTLSMirrorSettings(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	front := testenv.StartTLSFront(t, sd.reg.URL)
	mirrorHost, caFile := front.Host, front.CAFile
	dockerIO := spec.Registry{Host: "docker.io", Mirrors: []string{front.URL}, MirrorsOnly: true, Insecure: true}

	tests := []struct {
		name  string
		regs  []spec.Registry
		ok    bool
		notes int
	}{
		{name: "registry's insecure is not inherited", regs: []spec.Registry{dockerIO}, notes: 1},
		{name: "mirror's own insecure block", regs: []spec.Registry{dockerIO, {Host: mirrorHost, Insecure: true}}, ok: true},
		{name: "mirror's own ca block", regs: []spec.Registry{dockerIO, {Host: mirrorHost, CA: caFile}}, ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &spec.Spec{Registries: tt.regs}
			notes := MirrorSettingNotes(s)
			assert.Len(t, notes, tt.notes)
			im, err := newTestResolver(t, s).Resolve(context.Background(), "busybox:1.36", both)
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, sd.img.Index, im.Digest)
				return
			}
			var re *ResolveError
			require.ErrorAs(t, err, &re)
			assert.Equal(t, ClassTLS, re.Class())
			assert.Equal(t, 1, re.Hosts[0].Attempts, "a TLS failure is not retried")
			assert.Contains(t, err.Error(), "mirror "+front.URL+": TLS certificate not trusted")
			assert.Contains(t, errAndHint(err), `hint: give the spec the CA that signed it: ca = "certs/ca.pem" (or insecure = true to skip verification) in a registry "`+mirrorHost+`" block: a mirror does not inherit registry "docker.io"'s settings`)
			require.Len(t, notes, 1)
			assert.Equal(t, `registry "docker.io" sets insecure = true, which its mirror `+front.URL+` does not inherit: if the mirror needs it, add registry "`+mirrorHost+`" { insecure = true }`, notes[0])
		})
	}
}

// TestPlainHTTPMirrorWrittenAsHTTPS: an https:// URL on a plain-HTTP mirror gets the fix
// doctor gives (registry.TLSFix, one rule): write it as http://, not "set ca".
func TestPlainHTTPMirrorWrittenAsHTTPS(t *testing.T) {
	t.Parallel()
	sd := seedRegistry(t)
	asTLS := "https://" + sd.reg.Host
	_, err := newTestResolver(t, mirrorSpec(true, asTLS)).Resolve(context.Background(), "busybox:1.36", both)
	var re *ResolveError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, ClassTLS, re.Class())
	assert.Contains(t, err.Error(), "mirror "+asTLS+": TLS handshake with a plain-HTTP server")
	want := TLSFix("docker.io", asTLS, true)
	assert.Equal(t, want, re.Hint())
	assert.Contains(t, want, "the server speaks plain HTTP: write it as http://"+sd.reg.Host+` in registry "docker.io" { mirrors }`)
	assert.NotContains(t, re.Hint(), "ca =")
}

func TestIsPlainHTTP(t *testing.T) {
	t.Parallel()
	for msg, want := range map[string]bool{
		`Get "https://127.0.0.1:5000/v2/": http: server gave HTTP response to HTTPS client`: true,
		"tls: first record does not look like a TLS handshake":                              true,
		"x509: certificate signed by unknown authority":                                     false,
	} {
		assert.Equal(t, want, IsPlainHTTP(errors.New(msg)), msg)
		assert.Equal(t, ClassTLS, Classify(errors.New(msg)), msg)
	}
	assert.False(t, IsPlainHTTP(nil))
}
