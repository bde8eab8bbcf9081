package compiler

import (
	"context"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUnknownTarget: a target that names no stage lists the Dockerfile's stages, with the
// closest as a hint when one is close; other compile errors are left as BuildKit gave them.
func TestUnknownTarget(t *testing.T) {
	t.Parallel()
	const stages = "FROM scratch AS build\nFROM scratch AS runtime\nFROM scratch AS Debug\nFROM scratch\n"
	for _, tc := range []struct {
		name, dockerfile, target string
		want, hint               string
	}{
		{"close", stages, "runtmie",
			`compile app/linux/amd64: Dockerfile: target stage "runtmie" could not be found: the Dockerfile's stages are build, runtime, debug`,
			`did you mean target = "runtime"?`},
		{"far", stages, "production",
			`compile app/linux/amd64: Dockerfile: target stage "production" could not be found: the Dockerfile's stages are build, runtime, debug`,
			"set target to one of the stages, or remove it to build the last stage"},
		{"no stages", "FROM scratch\n", "runtime",
			`compile app/linux/amd64: Dockerfile: target stage "runtime" could not be found: the Dockerfile names no stage (FROM … AS name)`,
			"remove target to build the last stage, or name a stage with FROM … AS name"},
		{"other error", "FROM scratch AS runtime\nFRM x\n", "runtime",
			"compile app/linux/amd64: Dockerfile:2: dockerfile parse error on line 2: unknown instruction: FRM (did you mean FROM?)", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := oneComponent(t, tc.dockerfile, spec.Component{Target: tc.target})
			s.Components[0].Platforms = []string{"linux/amd64"}
			_, err := Compile(context.Background(), s, StandInImages{}, WithBuildPlatform("linux/amd64"))
			require.Error(t, err)
			assert.Equal(t, tc.want, err.Error())
			var ute *UnknownTargetError
			if tc.hint == "" {
				assert.NotErrorAs(t, err, &ute)
				return
			}
			require.ErrorAs(t, err, &ute)
			assert.Equal(t, tc.hint, ute.Hint())
		})
	}
}
