package compiler

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// reproDockerfile has a step for each thing reproIssues looks for, and one it must not
// flag (an ADD with --checksum).
const reproDockerfile = `FROM busybox
ADD https://example.invalid/tool.tar.gz /tool.tar.gz
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.invalid/pinned /pinned
RUN --network=host wget -q http://127.0.0.1/x
WORKDIR /app
RUN echo done
`

// compileRepro compiles dockerfile as the only component, on two platforms, after edit.
func compileRepro(t *testing.T, dockerfile string, edit func(*spec.Component)) *Plan {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte(dockerfile), 0o644))
	comp := spec.Component{
		Name: "web", Context: dir, Dockerfile: filepath.Join(dir, "Dockerfile"),
		Platforms: []string{"linux/amd64", "linux/arm64"}, Output: spec.OutputCacheOnly,
		Allow: []string{spec.EntitlementNetworkHost},
	}
	if edit != nil {
		edit(&comp)
	}
	s := &spec.Spec{Dir: dir, Files: []string{filepath.Join(dir, "archbuild.hcl")}, Platforms: comp.Platforms, Components: []spec.Component{comp}}
	plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
	require.NoError(t, err)
	return plan
}

func epochPtr(n int64) *int64 { return &n }

// imageConfig decodes what the plan hands the exporter.
type imageConfig struct {
	Created *time.Time `json:"created"`
	History []struct {
		Created   *time.Time `json:"created"`
		CreatedBy string     `json:"created_by"`
	} `json:"history"`
}

func decodeConfig(t *testing.T, b *Build) imageConfig {
	t.Helper()
	var c imageConfig
	require.NoError(t, json.Unmarshal(b.ImageConfig, &c))
	return c
}

func TestEpochStampsTheImageConfig(t *testing.T) {
	t.Parallel()
	none := compileRepro(t, reproDockerfile, nil)
	with := compileRepro(t, reproDockerfile, func(c *spec.Component) { c.SourceDateEpoch = epochPtr(1700000000) })
	other := compileRepro(t, reproDockerfile, func(c *spec.Component) { c.SourceDateEpoch = epochPtr(1700000001) })
	epoch := time.Unix(1700000000, 0).UTC()
	for _, id := range []string{"web/linux/amd64", "web/linux/arm64"} {
		b, n := with.Build(id), none.Build(id)
		require.NotNil(t, b)
		assert.Equal(t, "1700000000", b.SourceDateEpoch)
		assert.Empty(t, n.SourceDateEpoch)

		cfg := decodeConfig(t, b)
		require.NotNil(t, cfg.Created, "the config's created time is the epoch")
		assert.Equal(t, epoch, *cfg.Created)
		require.NotEmpty(t, cfg.History)
		for _, h := range cfg.History {
			require.NotNil(t, h.Created, h.CreatedBy)
			assert.Equal(t, epoch, h.Created.UTC(), h.CreatedBy)
		}
		assert.Nil(t, decodeConfig(t, n).Created, "no epoch, no created time: the exporter writes the build's")

		assert.NotEqual(t, n.ConfigDigest, b.ConfigDigest, "the epoch is part of the build's identity")
		assert.NotEqual(t, other.Build(id).ConfigDigest, b.ConfigDigest, "another epoch, another identity")
		assert.NotEqual(t, n.LLBDigest, b.LLBDigest, "WORKDIR's directory is stamped with the epoch")
	}
}

func TestEpochFindsUnreproducibleSteps(t *testing.T) {
	t.Parallel()
	plan := compileRepro(t, reproDockerfile, func(c *spec.Component) { c.SourceDateEpoch = epochPtr(1700000000) })
	want := []string{
		"Dockerfile:2 (ADD https://example.invalid/tool.tar.gz /tool.tar.gz): downloads a URL without --checksum; the server may send other bytes next time (ADD --checksum=sha256:...)",
		"Dockerfile:4 (RUN --network=host wget -q http://127.0.0.1/x): runs on the host's network, outside BuildKit's sandbox; what it fetches may differ next time",
	}
	for _, b := range plan.Builds {
		assert.Equal(t, want, b.Unreproducible, b.ID)
	}
	// One warning per step and component, not per platform.
	assert.Equal(t, []string{"web: not reproducible: " + want[0], "web: not reproducible: " + want[1]}, plan.Warnings)

	var text bytes.Buffer
	require.NoError(t, textView{}.Plan(&text, plan))
	assert.Contains(t, text.String(), "  epoch       1700000000 (not reproducible: 2 steps, see warnings)\n")
	jb := plan.JSON(nil).Builds[0]
	assert.Equal(t, "1700000000", jb.SourceDateEpoch)
	assert.Equal(t, want, jb.Unreproducible)

	// Without an epoch nothing is promised, so nothing is flagged.
	quiet := compileRepro(t, reproDockerfile, nil)
	assert.Empty(t, quiet.Warnings)
	assert.Nil(t, quiet.Builds[0].Unreproducible)
	text.Reset()
	require.NoError(t, textView{}.Plan(&text, quiet))
	assert.NotContains(t, text.String(), "epoch")
}

func TestEpochReproducibleText(t *testing.T) {
	t.Parallel()
	plan := compileRepro(t, "FROM busybox\nRUN echo hi > /x\n", func(c *spec.Component) { c.SourceDateEpoch = epochPtr(0) })
	b := plan.Build("web/linux/amd64")
	assert.Equal(t, "0", b.SourceDateEpoch, "0 is an epoch, not unset")
	assert.Empty(t, b.Unreproducible)
	assert.Equal(t, "0 (reproducible)", reproText(b))
	assert.Empty(t, plan.Warnings)
}

func TestEpochFromArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		epoch    *int64
		arg      string
		want     string
		warnings []string
	}{
		{name: "a numeric arg is the epoch", arg: "1600000000", want: "1600000000"},
		{name: "the attribute wins", epoch: epochPtr(1700000000), arg: "1600000000", want: "1700000000",
			warnings: []string{"web: build arg SOURCE_DATE_EPOCH ignored: source_date_epoch = 1700000000 sets it"}},
		{name: "agreeing is quiet", epoch: epochPtr(1700000000), arg: "1700000000", want: "1700000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan := compileRepro(t, "FROM busybox\nRUN echo hi > /x\n", func(c *spec.Component) {
				c.SourceDateEpoch = tt.epoch
				c.Args = map[string]string{"SOURCE_DATE_EPOCH": tt.arg}
				c.Platforms = []string{"linux/amd64"}
			})
			b := plan.Build("web/linux/amd64")
			assert.Equal(t, tt.want, b.SourceDateEpoch)
			assert.Equal(t, tt.warnings, plan.Warnings)
			if tt.want != "" {
				cfg := decodeConfig(t, b)
				require.NotNil(t, cfg.Created)
				assert.Equal(t, tt.want, strconv.FormatInt(cfg.Created.Unix(), 10), "the frontend used the epoch the plan shows")
			}
		})
	}
}
