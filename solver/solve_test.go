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
	got, err := splitExports(j, "", "linux/arm64")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"name": "r:5000/x/a,docker.io/q/b", "push": "true", "push-by-digest": "true"}, got[0].Attrs)

	j = &Job{Component: "a", Output: spec.OutputLocal, OutputPath: "/out"}
	got, err = splitExports(j, "", "linux/arm64")
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

// TestJobRunSolveOpt: a job's grouped and split solves get their options from one place,
// with the exports, epoch and mounts worked out once per run; each solve gets its own copy
// of the exports, so the annotations the supply chain adds never reach the job's.
func TestJobRunSolveOpt(t *testing.T) {
	t.Parallel()
	builds := []PlatformBuild{{Platform: "linux/amd64", ImageConfig: stamped}, {Platform: "linux/arm64", ImageConfig: stamped}}
	job := &Job{Component: "app", Dockerfile: "app/Dockerfile", Output: spec.OutputRegistry, Tags: []string{"r:5000/app:1"},
		Builds: builds, LocalDirs: map[string]string{"context": t.TempDir()},
		CacheImports: []client.CacheOptionsEntry{{Type: "registry", Attrs: map[string]string{"ref": "r:5000/cache"}}}}
	r := &jobRun{job: job, res: &Result{}, opts: RunOptions{Bases: &Bases{supply: newSupplyChain(attestPlan())}}}
	require.NoError(t, r.prepare())
	assert.Equal(t, "1700000000", r.res.SourceDateEpoch)
	assert.Equal(t, "1700000000", r.epoch)
	jobAttrs := map[string]string{"name": "r:5000/app:1", "push": "true", "source-date-epoch": "1700000000", "rewrite-timestamp": "true"}
	require.Len(t, r.ex, 1)
	assert.Equal(t, jobAttrs, r.ex[0].Attrs)

	amd := &Builder{Name: "amd", Workers: []ocispecs.Platform{plat("amd64")}}
	for range 2 { // a retry or re-run gets the same options
		opt, err := r.solveOpt(amd, builds, r.ex)
		require.NoError(t, err)
		assert.Equal(t, "linux/amd64,linux/arm64", opt.FrontendAttrs["platform"])
		assert.Equal(t, "mode=max", opt.FrontendAttrs["attest:provenance"])
		assert.Contains(t, opt.LocalMounts, "context")
		assert.Equal(t, job.CacheImports, opt.CacheImports)
		assert.Equal(t, "x", opt.Exports[0].Attrs["annotation-manifest[linux/amd64].t"])
		assert.Equal(t, "1700000000", opt.Exports[0].Attrs["source-date-epoch"])
	}
	assert.Equal(t, jobAttrs, r.ex[0].Attrs, "the job's exports are not written to")

	ex, err := splitExports(job, r.epoch, "linux/amd64")
	require.NoError(t, err)
	opt, err := r.solveOpt(amd, builds[:1], ex)
	require.NoError(t, err)
	assert.Equal(t, "linux/amd64", opt.FrontendAttrs["platform"])
	assert.Contains(t, opt.LocalMounts, "context")
	assert.Equal(t, "true", opt.Exports[0].Attrs["push-by-digest"])
	assert.Equal(t, "1700000000", opt.Exports[0].Attrs["source-date-epoch"])
	assert.Equal(t, "x", opt.Exports[0].Attrs["annotation-manifest[linux/amd64].t"], "attested: an index even for one platform")
}

// TestJobRunPrepare: the epoch is reported even when the job's exports are refused; the
// output's own error comes before the epoch's.
func TestJobRunPrepare(t *testing.T) {
	t.Parallel()
	plain := []byte(`{"architecture":"arm64","os":"linux","config":{}}`)
	tests := []struct {
		name      string
		job       Job
		wantEpoch string
		wantErr   string
	}{
		{name: "registry without tags", job: Job{Component: "a", Output: spec.OutputRegistry, Builds: []PlatformBuild{{Platform: "linux/amd64", ImageConfig: stamped}}},
			wantEpoch: "1700000000", wantErr: "component a: output registry needs tags"},
		{name: "output before epoch", job: Job{Component: "a", Output: spec.OutputRegistry, Builds: []PlatformBuild{{Platform: "linux/amd64", ImageConfig: stamped}, {Platform: "linux/arm64", ImageConfig: plain}}},
			wantErr: "component a: output registry needs tags"},
		{name: "platforms disagree", job: Job{Component: "a", Output: spec.OutputCacheOnly, Builds: []PlatformBuild{{Platform: "linux/amd64", ImageConfig: stamped}, {Platform: "linux/arm64", ImageConfig: plain}}},
			wantErr: "component a: its platforms have different epochs"},
		{name: "missing context", job: Job{Component: "a", Output: spec.OutputCacheOnly, Builds: []PlatformBuild{{Platform: "linux/amd64", ImageConfig: stamped}}, LocalDirs: map[string]string{"context": "/nonexistent/archc"}},
			wantEpoch: "1700000000", wantErr: "component a: open context /nonexistent/archc"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &jobRun{job: &tc.job, res: &Result{}}
			require.ErrorContains(t, r.prepare(), tc.wantErr)
			assert.Equal(t, tc.wantEpoch, r.res.SourceDateEpoch)
		})
	}
}
