package solver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/containerd/platforms"
)

// EmulationError says which platforms no builder can run and how to fix that. Its text is
// Cause, then "fix, either:" and the Fixes as a list; doctor shows the fields as they are.
type EmulationError struct {
	// Platforms are the platforms no builder serves, in the order asked.
	Platforms []string
	// Builders are the builders that were considered.
	Builders []*Builder
	// Cause is "no builder can run PLATFORMS:" and a line per builder with its workers.
	Cause string
	// Fixes are the alternatives, each complete on its own: emulation on the builder's
	// host, or a native node for the platform.
	Fixes []string
}

func newEmulationError(missing []string, builders []*Builder) *EmulationError {
	e := &EmulationError{Platforms: missing, Builders: builders}
	var sb strings.Builder
	fmt.Fprintf(&sb, "no builder can run %s:", strings.Join(missing, ", "))
	writeWorkers(&sb, builders)
	e.Cause = sb.String()
	var qemu []string
	for _, p := range missing {
		qemu = append(qemu, "qemu-"+qemuArch(p))
	}
	slices.Sort(qemu)
	qemu = slices.Compact(qemu)
	e.Fixes = []string{
		fmt.Sprintf("enable emulation on the builder's host: mount binfmt_misc if /proc/sys/fs/binfmt_misc/register is missing "+
			"(`mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc`), install qemu-user-static (Debian: `apt-get install qemu-user-static`) "+
			"so that %s is registered with the F flag (`cat /proc/sys/fs/binfmt_misc/%s`), then restart the builder (`archc builder down && archc builder up`)",
			strings.Join(qemu, ", "), qemu[0]),
		fmt.Sprintf("add a native node to the spec: builder \"%s\" { address = \"tcp://HOST:1234\"  platforms = [%q] }",
			strings.ReplaceAll(strings.TrimPrefix(missing[0], "linux/"), "/", "-"), missing[0]),
	}
	return e
}

// writeWorkers adds a line per builder: its workers, and what the spec routes to it.
func writeWorkers(sb *strings.Builder, builders []*Builder) {
	for _, b := range builders {
		fmt.Fprintf(sb, "\n  builder %q (%s) workers: %s", b.Name, b.Address, strings.Join(b.WorkerPlatforms(), ", "))
		if len(b.Declared) > 0 {
			fmt.Fprintf(sb, "; spec routes %s to it", strings.Join(b.Declared, ", "))
		}
	}
}

func (e *EmulationError) Error() string {
	return e.Cause + "\nfix, either:\n  - " + strings.Join(e.Fixes, ";\n  - or ")
}

// qemuArch maps a platform to the name qemu-user-static registers for it.
func qemuArch(p string) string {
	sp, err := platforms.Parse(p)
	if err != nil {
		return p
	}
	switch sp.Architecture {
	case "arm64":
		return "aarch64"
	case "amd64":
		return "x86_64"
	case "386":
		return "i386"
	case "arm":
		return "arm"
	case "mips64le":
		return "mips64el"
	default:
		return sp.Architecture
	}
}
