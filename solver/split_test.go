package solver

import (
	"context"
	"path/filepath"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// TestSolveSplitNamesAMissingContext: a split job whose context cannot be opened fails
// with the context named, before any builder is asked to solve without its files.
func TestSolveSplitNamesAMissingContext(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "gone")
	j := &Job{
		Component: "app",
		Builds:    []PlatformBuild{{Platform: "linux/amd64"}, {Platform: "linux/arm64"}},
		LocalDirs: map[string]string{"context": missing},
		Output:    spec.OutputCacheOnly,
	}
	// No client: a solve attempt would panic instead of failing.
	amd := &Builder{Name: "amd", Workers: []ocispecs.Platform{plat("amd64")}}
	arm := &Builder{Name: "arm", Workers: []ocispecs.Platform{plat("arm64")}}
	groups := map[*Builder][]PlatformBuild{amd: j.Builds[:1], arm: j.Builds[1:]}
	_, err := solveSplit(context.Background(), j, groups, []*Builder{amd, arm}, RunOptions{}, newTracker(j, j.Builds))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "component app: open context "+missing)
}
