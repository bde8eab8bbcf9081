package spec

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteDiagnostics(t *testing.T) {
	t.Parallel()
	file := filepath.Join(testdata, "bad", "bad_proxy_url.hcl")
	_, diags := Load(LoadOptions{Files: []string{file}})
	require.Len(t, diags, 1)

	var plain bytes.Buffer
	require.NoError(t, WriteDiagnostics(&plain, diags, false))
	assert.Equal(t, file+`:3:17: error: Invalid proxy URL
  3 |   https_proxy = "ftp://xxxxx@127.0.0.1:8888"
    |                 ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  https_proxy: scheme must be http, https, socks5 or socks5h, got "ftp".

`, plain.String(), "snippet with the password redacted")

	var colored bytes.Buffer
	require.NoError(t, WriteDiagnostics(&colored, diags, true))
	assert.Contains(t, colored.String(), ansiRed+"error"+ansiReset)
	assert.NotContains(t, colored.String(), "s3cret")
}

func TestWriteDiagnosticsWithoutFile(t *testing.T) {
	t.Parallel()
	_, diags := Load(LoadOptions{Files: []string{filepath.Join(testdata, "good", "full.hcl")}, Vars: map[string]string{"NOPE": "1"}})
	var out bytes.Buffer
	require.NoError(t, WriteDiagnostics(&out, diags, false))
	assert.Equal(t, "error: Undefined variable\n  --var NOPE=... sets a variable the spec does not declare; add a variable \"NOPE\" block or drop the flag.\n\n", out.String())
}
