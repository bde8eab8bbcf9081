package e2e

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlakyNetwork is issue 9's end-to-end fault suite: for each kind of fault, a cold
// `archc apply` of the workload without a lock (it resolves and writes one) and one with a
// lock, each on a fresh builder and an empty content cache, must exit 0 and push correct
// two-platform indexes, having retried the faulted requests, without one request to the
// mirrors_only upstream; and `archc doctor` on the same spec, under the same faults, must
// agree with apply's outcome. ARCHC_FAULT_SEED replays a run's faults.
func TestFlakyNetwork(t *testing.T) {
	e := setup(t)
	g := newFlakyRig(t, e)
	base := faultSeed(t)
	t.Logf("fault seed %d (set ARCHC_FAULT_SEED to replay)", base)
	for i, k := range flakyKinds {
		t.Run(k.name, func(t *testing.T) {
			for j, locked := range []bool{false, true} {
				name := "without lock"
				if locked {
					name = "with lock"
				}
				t.Run(name, func(t *testing.T) {
					repo := fmt.Sprintf("flaky/s%d%d", i, j)
					testFlakyRun(t, g, k, runSeed(base, i, j), locked, repo)
				})
			}
		})
	}
}

// testFlakyRun is one cold apply under k, with doctor under the same faults before it (does
// it predict the outcome?) and after it (does it explain it?).
func testFlakyRun(t *testing.T, g *flakyRig, k flakyKind, seed int64, locked bool, repo string) {
	defer g.clear()
	run := g.start(t, k, seed, locked, repo)
	// doctor checks the lock against content, which fills the content cache: its own cache
	// keeps the apply that follows cold.
	before := run.archc(t, "doctor", "--cache-dir", t.TempDir())
	assert.Zero(t, run.upstream, "doctor sent requests to a mirrors_only upstream")

	res := run.apply(t)
	// The faults were really injected, whatever the outcome.
	switch {
	case k.mirror != nil:
		assert.Positive(t, run.mirror.Faulted, "the mirror injected no fault: the scenario tested nothing")
	case k.push != nil:
		assert.Positive(t, run.push.Faulted, "the push registry injected no fault: the scenario tested nothing")
	case k.hole:
		assert.Positive(t, run.hole.Requests, "the blackholed mirror was never asked")
	}
	assert.Zero(t, run.upstream, "apply sent requests to a mirrors_only upstream")
	applyRun := *run

	after := run.archc(t, "doctor")
	for _, doc := range []struct {
		when string
		code int
	}{{"before", before.code}, {"after", after.code}} {
		assert.Equal(t, res.code == 0, doc.code == 0,
			"doctor %s apply: its verdict (exit %d) disagrees with apply's outcome (exit %d)", doc.when, doc.code, res.code)
	}

	require.Equal(t, 0, res.code, "cold apply under %q failed:\n%s", k.name, tail(res.stderr, 30))
	if k.retried {
		st := applyRun.mirror
		if k.push != nil {
			st = applyRun.push
		}
		assert.Positive(t, st.Retried, "no faulted path was asked again: %s", st)
	}
	if k.hole {
		assert.Positive(t, applyRun.mirror.Requests, "the healthy second mirror was never asked")
		assert.Contains(t, res.stderr, g.hole.URL, "the skipped mirror is named")
	}
	g.clear() // read the pushed images without faults
	g.assertPushed(t, repo)
}
