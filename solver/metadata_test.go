package solver

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func farmResults() []Result {
	return []Result{
		{Component: "app", Platforms: []string{"linux/amd64", "linux/arm64"}, Output: "registry", Digest: "sha256:idx",
			Tags: []string{"reg.test/app:v1", "reg.test/app:latest"}, Duration: 3 * time.Second, Steps: 4, CachedSteps: 2,
			Builds: []BuildResult{
				{Platform: "linux/amd64", Builder: "amd-1", Status: StatusCached, Steps: 2, CachedSteps: 2, Duration: time.Second, Digest: "sha256:amd"},
				{Platform: "linux/arm64", Builder: "arm-2", Status: StatusBuilt, Steps: 2, Duration: 2 * time.Second, Digest: "sha256:arm", Lost: []string{"arm-1"}},
			}},
		{Component: "web", Platforms: []string{"linux/amd64"}, Output: "registry", Err: errors.New("RUN failed with hunter2"),
			Builds: []BuildResult{{Platform: "linux/amd64", Builder: "amd-2", Status: StatusFailed, Steps: 1, Err: errors.New("RUN failed with hunter2")}}},
		{Component: "doc", Platforms: []string{"linux/amd64"}, Skipped: true, Err: errors.New("not built because web failed"),
			Builds: []BuildResult{{Platform: "linux/amd64", Status: StatusSkipped}}},
	}
}

func TestWriteResultsOneRowPerPlatform(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	require.NoError(t, WriteResults(&buf, farmResults()))
	out := buf.String()
	lines := strings.Split(out, "\n")
	assert.Regexp(t, `^COMPONENT\s+PLATFORM\s+BUILDER\s+DIGEST\s+TIME\s+STATUS\s+CACHED$`, lines[0])
	assert.Regexp(t, `^app\s+linux/amd64\s+amd-1\s+sha256:amd\s+1s\s+cached\s+2/2$`, lines[1])
	assert.Regexp(t, `^app\s+linux/arm64\s+arm-2 \(lost arm-1\)\s+sha256:arm\s+2s\s+built\s+0/2$`, lines[2])
	assert.Regexp(t, `^web\s+linux/amd64\s+amd-2\s+-\s+0s\s+failed\s+0/1$`, lines[3])
	assert.Regexp(t, `^doc\s+linux/amd64\s+-\s+-\s+0s\s+skipped\s+-$`, lines[4])
	assert.Contains(t, out, "1 built, 1 cached, 1 failed, 0 cancelled, 1 skipped")
	assert.Contains(t, out, "indexes:\n  app: sha256:idx\n")
}

func TestWriteMetadataFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out", "meta.json")
	mask := func(s string) string { return strings.ReplaceAll(s, "hunter2", "****") }
	require.NoError(t, WriteMetadataFile(path, farmResults(), errors.New("component web failed: hunter2"), mask))
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "hunter2", "masked")
	var md Metadata
	require.NoError(t, json.Unmarshal(raw, &md))
	assert.Equal(t, MetadataFormatVersion, md.FormatVersion)
	assert.Equal(t, "failed", md.Status)
	app := md.Components["app"]
	assert.Equal(t, map[string]string{"reg.test/app:v1": "sha256:idx", "reg.test/app:latest": "sha256:idx"}, app.Tags)
	assert.Equal(t, "arm-2", app.Platforms["linux/arm64"].Builder)
	assert.Equal(t, "sha256:arm", app.Platforms["linux/arm64"].Digest)
	assert.Equal(t, []string{"arm-1"}, app.Platforms["linux/arm64"].LostBuilders)
	assert.Equal(t, int64(2000), app.Platforms["linux/arm64"].DurationMS)
	assert.Equal(t, "cached", app.Platforms["linux/amd64"].Status)
	assert.Nil(t, md.Components["web"].Tags, "a failed component pushed nothing it vouches for")
	assert.Equal(t, "failed", md.Components["web"].Platforms["linux/amd64"].Status)
	assert.Equal(t, "skipped", md.Components["doc"].Status)

	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
