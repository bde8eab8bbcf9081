package solver

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocateStep(t *testing.T) {
	t.Parallel()
	df := filepath.Join(t.TempDir(), "Dockerfile")
	require.NoError(t, os.WriteFile(df, []byte("FROM busybox AS build\nRUN echo one\nRUN make \\\n    all\nCOPY --from=build /a /b\n"), 0o644))
	tests := []struct {
		step, want string
	}{
		{"[web linux/arm64] [build 2/3] RUN echo one", ":2\n    2 | >>> RUN echo one\n"},
		{"[web] [build 3/3] RUN make     all", ":3\n    3 | >>> RUN make \\\n    4 | >>>     all\n"},
		{"[web linux/amd64] [stage-1 1/1] COPY --from=build /a /b", ":5\n"},
		{"[web] RUN something else", ""},
		{"not a step", ""},
	}
	for _, tc := range tests {
		got := locateStep(df, tc.step)
		if tc.want == "" {
			assert.Empty(t, got, tc.step)
			continue
		}
		assert.Contains(t, got, tc.want, tc.step)
	}
}
