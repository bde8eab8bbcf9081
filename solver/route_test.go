package solver

import (
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func plat(arch string) ocispecs.Platform { return ocispecs.Platform{OS: "linux", Architecture: arch} }

func TestRoute(t *testing.T) {
	t.Parallel()
	amdOnly := &Builder{Name: "local", Address: "unix:///x", Workers: []ocispecs.Platform{plat("amd64"), plat("386")}}
	emulated := &Builder{Name: "local", Workers: []ocispecs.Platform{plat("amd64"), plat("arm64")}}
	nativeArm := &Builder{Name: "arm", Workers: []ocispecs.Platform{plat("arm64")}}
	declared := &Builder{Name: "zz", Declared: []string{"linux/arm64"}, Workers: []ocispecs.Platform{plat("amd64"), plat("arm64")}}

	tests := []struct {
		name     string
		builders []*Builder
		plats    []string
		want     map[string]string
		missing  []string
	}{
		{"emulated arm64 on one builder", []*Builder{emulated}, []string{"linux/amd64", "linux/arm64"},
			map[string]string{"linux/amd64": "local", "linux/arm64": "local"}, nil},
		{"native node beats emulation", []*Builder{emulated, nativeArm}, []string{"linux/amd64", "linux/arm64"},
			map[string]string{"linux/amd64": "local", "linux/arm64": "arm"}, nil},
		{"declared platforms win", []*Builder{nativeArm, declared}, []string{"linux/arm64"},
			map[string]string{"linux/arm64": "zz"}, nil},
		{"missing emulation", []*Builder{amdOnly}, []string{"linux/amd64", "linux/arm64"}, nil, []string{"linux/arm64"}},
		{"declared platform its workers cannot run", []*Builder{emulated, {Name: "z", Declared: []string{"linux/s390x"}, Workers: []ocispecs.Platform{plat("amd64")}}},
			[]string{"linux/s390x"}, nil, []string{"linux/s390x"}},
		{"declared platform another builder could run: still refused", []*Builder{{Name: "z", Declared: []string{"linux/arm64"}, Workers: []ocispecs.Platform{plat("amd64")}}, nativeArm},
			[]string{"linux/arm64"}, nil, []string{"linux/arm64"}},
		{"declared platform, workers unknown: trusted", []*Builder{{Name: "z", Declared: []string{"linux/s390x"}}}, []string{"linux/s390x"},
			map[string]string{"linux/s390x": "z"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Route(tc.builders, tc.plats)
			if tc.missing != nil {
				var ee *EmulationError
				require.ErrorAs(t, err, &ee)
				assert.Equal(t, tc.missing, ee.Platforms)
				return
			}
			require.NoError(t, err)
			names := map[string]string{}
			for p, b := range got {
				names[p] = b.Name
			}
			assert.Equal(t, tc.want, names)
		})
	}
}

func TestEmulationErrorNamesTheFix(t *testing.T) {
	t.Parallel()
	b := &Builder{Name: "local", Address: "unix:///s", Workers: []ocispecs.Platform{plat("amd64")}}
	_, err := Route([]*Builder{b}, []string{"linux/arm64"})
	require.Error(t, err)
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
