package doctor

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/archc-dev/archc/registry"
)

// qemuPlatforms maps a binfmt_misc entry's qemu name to the platform it runs.
var qemuPlatforms = map[string]string{
	"aarch64": "linux/arm64", "arm": "linux/arm/v7", "x86_64": "linux/amd64", "i386": "linux/386",
	"s390x": "linux/s390x", "ppc64le": "linux/ppc64le", "riscv64": "linux/riscv64",
	"mips64el": "linux/mips64le", "loongarch64": "linux/loong64",
}

// hostPlatforms is what a fresh local buildkitd's workers would report: this machine's
// platform (and 386 on amd64) plus each enabled qemu emulator in binfmt_misc, sorted.
func (e *env) hostPlatforms() []string {
	native := registry.DefaultBuildPlatform()
	out := []string{native}
	if native == "linux/amd64" {
		out = append(out, "linux/386")
	}
	entries, _ := os.ReadDir(e.o.binfmtDir)
	for _, en := range entries {
		arch, ok := strings.CutPrefix(en.Name(), "qemu-")
		p := qemuPlatforms[arch]
		if !ok || p == "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join(e.o.binfmtDir, en.Name()))
		if err != nil || !strings.HasPrefix(string(b), "enabled") {
			continue
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
