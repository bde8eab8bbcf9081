package solver

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
	"github.com/archc-dev/archc/registry"
)

// TestPrefetchFailuresFromARealBuilder pulls through a real buildkitd from a dead mirror,
// a registry answering 503 and one lacking the manifest: what comes back over gRPC is
// classified as the registry classifies it, and only the transient ones are retried.
func TestPrefetchFailuresFromARealBuilder(t *testing.T) {
	testenv.Require(t, testenv.PartRoot)
	testenv.Require(t, testenv.PartRunc)
	bin := testenv.Require(t, testenv.PartBuildkitd)
	reg := testenv.StartRegistry(t)
	unavailable := testenv.StartFaultProxy(t, reg.URL)
	unavailable.Set(testenv.Status(503, nil))
	const dead = "127.0.0.1:9" // discard port: nothing listens
	state, err := os.MkdirTemp("", "archc-prefetch-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(state) })
	t.Setenv("XDG_STATE_HOME", state)
	t.Cleanup(func() { _, _ = StopLocal(context.Background(), "prefetch", nil) })

	var cfg bytes.Buffer
	for _, h := range []string{dead, reg.Host, unavailable.Host} {
		fmt.Fprintf(&cfg, "[registry.%q]\n  http = true\n", h)
	}
	fmt.Fprintf(&cfg, "[registry.%q]\n  mirrors = [%q]\n", "upstream.invalid", dead)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	b, err := EnsureLocal(ctx, LocalOptions{Name: "prefetch", Config: cfg.Bytes(), Binary: bin, Out: &out})
	require.NoError(t, err, out.String())
	t.Cleanup(func() { _ = b.Close() })
	prog, err := NewProgress(ctx, &out, "plain")
	require.NoError(t, err)
	t.Cleanup(func() { _ = prog.Close() })

	missing := "@" + digest.FromString("not pushed").String()
	tests := []struct {
		ref   string
		class registry.Class
		tries string
	}{
		{"upstream.invalid/library/busybox" + missing, registry.ClassTransient, "(transient, 2 attempts)"},
		{unavailable.Host + "/library/busybox" + missing, registry.ClassTransient, "(transient, 2 attempts)"},
		{reg.Host + "/library/busybox" + missing, registry.ClassNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			err := Prefetch(ctx, map[*Builder][]Base{b: {{Ref: tc.ref, Platform: "linux/amd64"}}},
				PrefetchOptions{Attempts: 2, Progress: prog})
			require.Error(t, err)
			assert.Equal(t, tc.class, registry.Classify(err), "%v", err)
			assert.Contains(t, err.Error(), "prefetch "+tc.ref)
			if tc.tries == "" {
				assert.NotContains(t, err.Error(), "attempts", "not retried")
			} else {
				assert.Contains(t, err.Error(), tc.tries)
			}
		})
	}
}
