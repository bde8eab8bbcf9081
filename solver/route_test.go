package solver

import (
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func plat(arch string) ocispecs.Platform { return ocispecs.Platform{OS: "linux", Architecture: arch} }

func TestEmulationErrorNamesTheFix(t *testing.T) {
	t.Parallel()
	b := &Builder{Name: "local", Address: "unix:///s", Workers: []ocispecs.Platform{plat("amd64")}}
	var err error = newEmulationError([]string{"linux/arm64"}, []*Builder{b})
	msg := err.Error()
	for _, want := range []string{
		"no builder can run linux/arm64",
		`builder "local" (unix:///s) workers: linux/amd64`,
		"mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc",
		"qemu-user-static",
		"qemu-aarch64",
		`platforms = ["linux/arm64"]`,
	} {
		assert.Contains(t, msg, want)
	}

	var ee *EmulationError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, []string{"linux/arm64"}, ee.Platforms)
	assert.Equal(t, "no builder can run linux/arm64:\n  builder \"local\" (unix:///s) workers: linux/amd64", ee.Cause)
	require.Len(t, ee.Fixes, 2, "emulation, or a native node")
	assert.Contains(t, ee.Fixes[0], "`cat /proc/sys/fs/binfmt_misc/qemu-aarch64`")
	assert.Equal(t, `add a native node to the spec: builder "arm64" { address = "tcp://HOST:1234"  platforms = ["linux/arm64"] }`, ee.Fixes[1])
	for _, f := range ee.Fixes {
		assert.NotContains(t, f, "\n", "one line per fix")
	}
	// the text is the fields: the cause, then the fixes as a list.
	assert.Equal(t, ee.Cause+"\nfix, either:\n  - "+ee.Fixes[0]+";\n  - or "+ee.Fixes[1], msg)
}
