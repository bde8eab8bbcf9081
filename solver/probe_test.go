package solver

import (
	"testing"

	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// TestWriteTargets: one target per host and kind, each apply's exporter entry (its
// registry.insecure rule) redirected to REPO/archc-doctor-probe and pushed by digest.
func TestWriteTargets(t *testing.T) {
	t.Parallel()
	s := &spec.Spec{Registries: []spec.Registry{{Host: "127.0.0.1:5000", HTTP: true}, {Host: "nexus.internal:8443", CA: "ca.pem"}}}
	jobs := []*Job{
		{Component: "app", Output: spec.OutputRegistry, Tags: []string{"127.0.0.1:5000/team/app:v1", "127.0.0.1:5000/team/app:latest", "nexus.internal:8443/app:v1"},
			CacheExports: []client.CacheOptionsEntry{
				{Type: "registry", Attrs: map[string]string{"ref": "nexus.internal:8443/cache/app:buildcache", "mode": "max"}},
				{Type: "local", Attrs: map[string]string{"dest": "/tmp/cache"}},
			}},
		{Component: "lib", Output: spec.OutputCacheOnly, Tags: []string{"127.0.0.1:5000/lib:v1"}},
		{Component: "web", Output: spec.OutputRegistry, Tags: []string{"127.0.0.1:5000/web:v1"}},
	}
	ts, err := WriteTargets(s, jobs)
	require.NoError(t, err)
	require.Len(t, ts, 3, "per host and kind; no target for a local cache or a cache-only output's tags")
	type row struct{ host, kind, comp, ref, probe, insecure string }
	var got []row
	for _, tg := range ts {
		require.NotNil(t, tg.export)
		assert.Equal(t, client.ExporterImage, tg.export.Type)
		assert.Equal(t, tg.Probe, tg.export.Attrs["name"])
		assert.Equal(t, "true", tg.export.Attrs["push"])
		assert.Equal(t, "true", tg.export.Attrs["push-by-digest"])
		got = append(got, row{tg.Host, tg.Kind, tg.Component, tg.Ref, tg.Probe, tg.export.Attrs["registry.insecure"]})
	}
	assert.Equal(t, []row{
		{"127.0.0.1:5000", "push", "app", "127.0.0.1:5000/team/app:v1", "127.0.0.1:5000/team/app/archc-doctor-probe", "true"},
		{"nexus.internal:8443", "push", "app", "nexus.internal:8443/app:v1", "nexus.internal:8443/app/archc-doctor-probe", ""},
		{"nexus.internal:8443", "cache", "app", "nexus.internal:8443/cache/app:buildcache", "nexus.internal:8443/cache/app/archc-doctor-probe", ""},
	}, got)
}
