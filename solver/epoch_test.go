package solver

import (
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// stamped is an image config as the compiler writes it with source_date_epoch = 1700000000.
var stamped = []byte(`{"architecture":"amd64","os":"linux","created":"2023-11-14T22:13:20Z","config":{}}`)

func TestExportsWithEpoch(t *testing.T) {
	t.Parallel()
	plain := []byte(`{"architecture":"amd64","os":"linux","config":{}}`)
	builds := func(configs ...[]byte) []PlatformBuild {
		var out []PlatformBuild
		for i, c := range configs {
			out = append(out, PlatformBuild{Platform: []string{"linux/amd64", "linux/arm64"}[i], ImageConfig: c})
		}
		return out
	}
	epochAttrs := map[string]string{"source-date-epoch": "1700000000", "rewrite-timestamp": "true"}
	tests := []struct {
		name    string
		job     Job
		split   string // a platform: splitExports
		want    map[string]string
		wantErr string
	}{
		{name: "registry", job: Job{Component: "a", Output: spec.OutputRegistry, Tags: []string{"r:5000/a:1"}, Builds: builds(stamped, stamped)},
			want: map[string]string{"name": "r:5000/a:1", "push": "true", "source-date-epoch": "1700000000", "rewrite-timestamp": "true"}},
		{name: "registry split by platform", split: "linux/arm64", job: Job{Component: "a", Output: spec.OutputRegistry, Tags: []string{"r:5000/a:1"}, Builds: builds(stamped, stamped)},
			want: map[string]string{"name": "r:5000/a", "push": "true", "push-by-digest": "true", "source-date-epoch": "1700000000", "rewrite-timestamp": "true"}},
		{name: "oci", job: Job{Component: "a", Output: spec.OutputOCI, OutputPath: "/x/a.tar", Builds: builds(stamped)}, want: epochAttrs},
		{name: "oci split by platform", split: "linux/amd64", job: Job{Component: "a", Output: spec.OutputOCI, OutputPath: "/x/a.tar", Builds: builds(stamped, stamped)}, want: epochAttrs},
		{name: "docker", job: Job{Component: "a", Output: spec.OutputDocker, OutputPath: "/x/a.tar", Tags: []string{"a:1"}, Builds: builds(stamped)},
			want: map[string]string{"name": "a:1", "source-date-epoch": "1700000000", "rewrite-timestamp": "true"}},
		{name: "local: file times, no layers", job: Job{Component: "a", Output: spec.OutputLocal, OutputPath: "/out", Builds: builds(stamped)},
			want: map[string]string{"source-date-epoch": "1700000000"}},
		{name: "no epoch, no attributes", job: Job{Component: "a", Output: spec.OutputOCI, OutputPath: "/x/a.tar", Builds: builds(plain, nil)},
			want: map[string]string{}},
		{name: "platforms disagree", job: Job{Component: "a", Output: spec.OutputOCI, OutputPath: "/x/a.tar", Builds: builds(stamped, plain)},
			wantErr: "component a: its platforms have different epochs"},
		{name: "a config that is not JSON", job: Job{Component: "a", Output: spec.OutputOCI, OutputPath: "/x/a.tar", Builds: builds([]byte("{"))},
			wantErr: "component a (linux/amd64): read the image config's created time"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []client.ExportEntry
			var err error
			if tc.split != "" {
				var epoch string
				if epoch, err = jobEpoch(&tc.job); err == nil {
					got, err = splitExports(&tc.job, epoch, tc.split)
				}
			} else if tc.job.Output == spec.OutputDocker {
				got, err = dockerExports(&tc.job, nil, "none")
				var epoch string
				if err == nil {
					epoch, err = jobEpoch(&tc.job)
				}
				got = withEpoch(epoch, got)
			} else {
				got, err = exports(&tc.job)
			}
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, 1)
			attrs := got[0].Attrs
			if attrs == nil {
				attrs = map[string]string{}
			}
			assert.Equal(t, tc.want, attrs)
		})
	}
}
