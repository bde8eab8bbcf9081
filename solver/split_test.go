package solver

import (
	"context"
	"io"
	"path/filepath"
	"testing"

	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// TestSplitNamesAMissingContext: a job whose context cannot be opened fails with the
// context named, before any builder is asked to solve without its files.
func TestSplitNamesAMissingContext(t *testing.T) {
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
	prog, err := NewProgress(context.Background(), io.Discard, "quiet")
	require.NoError(t, err)
	res, err := Run(context.Background(), Farm{Builders: []*Builder{amd, arm}}, []*Job{j}, RunOptions{Progress: prog})
	require.NoError(t, prog.Close())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "component app: open context "+missing)
	assert.Equal(t, StatusFailed, res[0].Builds[0].Status)
	assert.Equal(t, StatusFailed, res[0].Builds[1].Status)
}
