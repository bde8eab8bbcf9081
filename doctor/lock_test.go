package doctor

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// TestLockCheckContent: the lock check fails a pin its content contradicts, with the
// text plan and apply print (registry's VerifyLock), located in the lock file.
func TestLockCheckContent(t *testing.T) {
	t.Parallel()
	sd := startSeeded(t)
	foreign := testenv.PushTiny(t, sd.reg, "library/other", "1", "linux/amd64", "linux/arm64")
	amd, arm := sd.img.Platforms["linux/amd64"], sd.img.Platforms["linux/arm64"]
	idx := sd.img.Index.String()

	tests := []struct {
		name   string
		amd64  testenv.PlatformImage // what the lock pins for linux/amd64
		cause  []string
		wantOK bool
	}{
		{name: "pins agree", amd64: amd, wantOK: true},
		{name: "arm64 manifest pinned for amd64", amd64: testenv.PlatformImage{Manifest: arm.Manifest, Config: arm.Config}, cause: []string{
			"archbuild.lock.hcl:", ": error: Manifest not listed for linux/amd64 in the pinned index",
			"linux/amd64 manifest " + arm.Manifest.String() + " is listed in index " + idx + " under linux/arm64; the index lists " + amd.Manifest.String() + " for linux/amd64.",
		}},
		{name: "manifest of another repository", amd64: testenv.PlatformImage{Manifest: foreign.Platforms["linux/amd64"].Manifest, Config: amd.Config}, cause: []string{
			"linux/amd64 manifest " + foreign.Platforms["linux/amd64"].Manifest.String() + " is not listed in index " + idx,
		}},
		{name: "config of another platform", amd64: testenv.PlatformImage{Manifest: amd.Manifest, Config: arm.Config}, cause: []string{
			"error: Config is not the one the manifest names",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := loadSpec(t, mirrorSpec(sd.reg.URL, "linux/amd64", "linux/arm64"))
			img := sd.img
			img.Platforms = map[string]testenv.PlatformImage{"linux/amd64": tt.amd64, "linux/arm64": arm}
			writeLock(t, s, img, sd.reg.Host)
			f := runOneNamed(t, s, testOptions(t, s.Dir), "lock")
			if tt.wantOK {
				assertFinding(t, f, OK, "pins all 1 base images for their platforms (2 manifests); 1 current", "", "")
				return
			}
			require.Equal(t, Fail, f.Verdict, f.Cause)
			assert.Contains(t, f.Checked, "the pins against their index and manifests")
			for _, c := range tt.cause {
				assert.Contains(t, f.Cause, c)
			}
			assert.Contains(t, f.Fix, "archc lock --update --image "+baseRef)
		})
	}
}
