package registry

import (
	"context"
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
			assert.Contains(t, errAndHint(err), `hint: set ca = "..." (or insecure = true) in a registry "`+mirrorHost+`" block`)
			require.Len(t, notes, 1)
			assert.Equal(t, `registry "docker.io" sets insecure = true, which its mirror `+front.URL+` does not inherit: if the mirror needs it, add registry "`+mirrorHost+`" { insecure = true }`, notes[0])
		})
	}
}
