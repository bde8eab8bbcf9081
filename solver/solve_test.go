package solver

import (
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

func TestExports(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		job     Job
		want    []client.ExportEntry
		wantErr string
	}{
		{name: "registry pushes every tag", job: Job{Component: "a", Output: spec.OutputRegistry, Tags: []string{"r:5000/a:1", "r:5000/a:latest"}},
			want: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": "r:5000/a:1,r:5000/a:latest", "push": "true"}}}},
		{name: "insecure registry", job: Job{Component: "a", Output: spec.OutputRegistry, Tags: []string{"r:5000/a:1"}, Insecure: true},
			want: []client.ExportEntry{{Type: client.ExporterImage, Attrs: map[string]string{"name": "r:5000/a:1", "push": "true", "registry.insecure": "true"}}}},
		{name: "registry without tags", job: Job{Component: "a", Output: spec.OutputRegistry}, wantErr: "component a: output registry needs tags"},
		{name: "local", job: Job{Component: "a", Output: spec.OutputLocal, OutputPath: "/out"},
			want: []client.ExportEntry{{Type: client.ExporterLocal, OutputDir: "/out"}}},
		{name: "local without path", job: Job{Component: "a", Output: spec.OutputLocal}, wantErr: "output local needs output_path"},
		{name: "cache-only exports nothing", job: Job{Component: "a", Output: spec.OutputCacheOnly}},
		{name: "unknown", job: Job{Component: "a", Output: "tarball"}, wantErr: `unknown output "tarball"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := exports(&tc.job)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestExportsOCI(t *testing.T) {
	t.Parallel()
	got, err := exports(&Job{Component: "a", Output: spec.OutputOCI, OutputPath: "/x/a.tar", Tags: []string{"a:1"}})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, client.ExporterOCI, got[0].Type)
	assert.Equal(t, map[string]string{"name": "a:1"}, got[0].Attrs)
	assert.NotNil(t, got[0].Output)
}

func TestSplitExportsPushByDigestPerRepository(t *testing.T) {
	t.Parallel()
	j := &Job{Component: "a", Output: spec.OutputRegistry, Tags: []string{"r:5000/x/a:1", "r:5000/x/a:latest", "q/b:2"}}
	got, err := splitExports(j, "linux/arm64")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"name": "r:5000/x/a,docker.io/q/b", "push": "true", "push-by-digest": "true"}, got[0].Attrs)

	j = &Job{Component: "a", Output: spec.OutputLocal, OutputPath: "/out"}
	got, err = splitExports(j, "linux/arm64")
	require.NoError(t, err)
	assert.Equal(t, "/out/linux_arm64", got[0].OutputDir)
}

func TestExportedDescriptor(t *testing.T) {
	t.Parallel()
	d := ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageManifest, Digest: digest.FromString("m"), Size: 42,
		Annotations: map[string]string{"x": "y"}}
	dt, err := json.Marshal(d)
	require.NoError(t, err)
	got, err := exportedDescriptor(map[string]string{exptypes.ExporterImageDescriptorKey: base64.StdEncoding.EncodeToString(dt)}, "linux/arm64")
	require.NoError(t, err)
	assert.Equal(t, d.Digest, got.Digest)
	assert.Equal(t, int64(42), got.Size)
	require.NotNil(t, got.Platform)
	assert.Equal(t, "arm64", got.Platform.Architecture)
	assert.Nil(t, got.Annotations)

	_, err = exportedDescriptor(map[string]string{}, "linux/arm64")
	assert.ErrorContains(t, err, "no descriptor")
}

func TestPlatformAttrs(t *testing.T) {
	t.Parallel()
	got := platformAttrs([]PlatformBuild{{Platform: "linux/amd64"}, {Platform: "linux/arm64"}})
	assert.Equal(t, map[string]string{"platform": "linux/amd64,linux/arm64"}, got)
}
