package initspec

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInsecureRegistriesProbed probes a real plain-HTTP registry, a TLS front with a
// self-signed certificate before it, and a closed port, and checks what each becomes.
func TestInsecureRegistriesProbed(t *testing.T) {
	reg := testenv.StartRegistry(t)
	front := testenv.StartTLSFront(t, "http://"+reg.Host)
	closed := testenv.ClosedAddr(t)
	etc := t.TempDir()
	daemon := fmt.Sprintf(`{"registry-mirrors": ["https://%s"], "insecure-registries": ["%s", "https://%s", "%s"]}`,
		reg.Host, reg.Host, front.Host, closed)
	dir := repo(t)
	res, err := Generate(context.Background(), Options{Dir: dir, DaemonJSON: writeFile(t, etc, "daemon.json", daemon),
		ProbeTimeout: 2 * time.Second})
	require.NoError(t, err)
	src := string(res.Spec)
	assert.Contains(t, src, fmt.Sprintf("registry %q {\n  http = true\n}", reg.Host))
	assert.Contains(t, src, fmt.Sprintf("registry %q {\n  insecure = true\n}", front.Host))
	assert.Contains(t, src, fmt.Sprintf("# registry %q {", closed), "a host that does not answer is left as a comment")
	assert.Contains(t, src, "could not tell how it speaks")
	assert.Contains(t, src, fmt.Sprintf(`mirrors = ["http://%s"]`, reg.Host), "the mirror on a plain-HTTP host is written http://")
	assert.Contains(t, reportText(res), fmt.Sprintf("registry %q (from %s/daemon.json insecure-registries): probe of /v2/: plain HTTP, http = true", reg.Host, etc))
	s, diags, err := Validate(dir, "archbuild.hcl", res)
	require.NoError(t, err)
	require.False(t, diags.HasErrors(), diags.Error())
	hosts := map[string]string{}
	for _, r := range s.Registries {
		hosts[r.Host] = fmt.Sprintf("http=%v insecure=%v", r.HTTP, r.Insecure)
	}
	assert.Equal(t, "http=true insecure=false", hosts[reg.Host])
	assert.Equal(t, "http=false insecure=true", hosts[front.Host])
	assert.NotContains(t, hosts, closed)
	assert.False(t, strings.Contains(src, "10.0.0.0"))
}
