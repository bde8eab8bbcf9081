package spec

import (
	"github.com/containerd/platforms"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// FormatPlatform writes p normalized (x86_64 is amd64, aarch64 is arm64, arm64's "v8" variant
// dropped): os/arch[/variant], the one spelling of a platform in specs, plans, the lock and
// routing, so two spellings of one platform compare equal.
func FormatPlatform(p ocispecs.Platform) string {
	return platforms.Format(platforms.Normalize(p))
}

// NormalizePlatform is FormatPlatform of a platform string; a string that does not parse is
// returned as it is (validation reports it).
func NormalizePlatform(p string) string {
	sp, err := platforms.Parse(p)
	if err != nil {
		return p
	}
	return FormatPlatform(sp)
}
