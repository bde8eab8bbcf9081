package doctor

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSecretsCheck: doctor reads the secret sources with apply's own function, so an unset
// variable or a missing file fails doctor as it fails apply, and the value is never shown.
func TestSecretsCheck(t *testing.T) {
	const env = "ARCHC_DOCTOR_TEST_TOKEN"
	body := `secret "tok" { env = "` + env + `" }
secret "conf" { file = "conf.txt" }
component "app" {
  context = "./app"
  secrets = ["tok", "conf"]
}
`
	s := loadSpec(t, body)
	require.NoError(t, os.WriteFile(filepath.Join(s.Dir, "app", "Dockerfile"),
		[]byte("FROM busybox:1.36\nRUN --mount=type=secret,id=tok --mount=type=secret,id=conf true\n"), 0o644))
	o := testOptions(t, s.Dir)

	t.Setenv(env, "s3cr3t-value")
	f := runOneNamed(t, s, o, "secrets")
	assert.Equal(t, Fail, f.Verdict, "conf.txt does not exist yet: %+v", f)
	assert.Contains(t, f.Cause, "conf.txt")
	assert.NotContains(t, f.Cause+f.Checked+f.Fix, "s3cr3t-value")

	require.NoError(t, os.WriteFile(filepath.Join(s.Dir, "conf.txt"), []byte("other-value\n"), 0o600))
	f = runOneNamed(t, s, o, "secrets")
	assert.Equal(t, OK, f.Verdict, "%+v", f)
	assert.NotContains(t, f.Checked, "s3cr3t-value")

	t.Setenv(env, "")
	f = runOneNamed(t, s, o, "secrets")
	assert.Equal(t, Fail, f.Verdict, "%+v", f)
	assert.Contains(t, f.Cause, env)
}
