package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Parts that Require knows how to find.
const (
	PartRegistry     = "docker-registry" // Debian's docker-registry on PATH
	PartTinyproxy    = "tinyproxy"       // Debian's tinyproxy on PATH
	PartRunc         = "runc"            // runc on PATH (buildkitd's OCI worker)
	PartBusyboxAMD64 = "busybox-amd64"   // cached busybox-static for linux/amd64
	PartBusyboxARM64 = "busybox-arm64"   // cached busybox-static for linux/arm64
	PartQemuARM64    = "qemu-aarch64"    // binfmt_misc entry for aarch64 with the F flag
	PartArchc        = "archc"           // $ARCHC_BIN_DIR/archc
	PartBuildkitd    = "buildkitd"       // $ARCHC_BIN_DIR/buildkitd
	PartRoot         = "root"            // running as uid 0 (buildkitd with runc)
)

const setupHint = "run `make setup` (scripts/setup.sh)"

// InCI reports whether the tests run in CI (CI=true), where a missing part is a failure.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing skips the test with the reason, or fails it under CI=true.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("missing test prerequisite (CI=true makes this fatal): %s", msg)
		return
	}
	t.Skipf("missing test prerequisite: %s", msg)
}

// Require checks that a part (one of the Part* constants) is available and returns its path
// (empty for parts that are not files). A missing part skips the test, or fails it in CI.
func Require(t testing.TB, part string) string {
	t.Helper()
	path, err := locate(part)
	if err != nil {
		Missing(t, "%s: %v", part, err)
	}
	return path
}

// locate finds a part or says why it is not there.
func locate(part string) (string, error) {
	switch part {
	case PartRegistry, PartTinyproxy, PartRunc:
		p, err := exec.LookPath(part)
		if err != nil {
			return "", fmt.Errorf("%s not on PATH; %s", part, setupHint)
		}
		return p, nil
	case PartBusyboxAMD64:
		return cachedBusybox("amd64")
	case PartBusyboxARM64:
		return cachedBusybox("arm64")
	case PartQemuARM64:
		return "", checkBinfmtAArch64()
	case PartArchc, PartBuildkitd:
		dir, err := binDir()
		if err != nil {
			return "", err
		}
		return executable(filepath.Join(dir, part))
	case PartRoot:
		if os.Geteuid() != 0 {
			return "", fmt.Errorf("needs root (uid 0), running as uid %d", os.Geteuid())
		}
		return "", nil
	}
	return "", fmt.Errorf("unknown part %q", part)
}

// CacheDir is where scripts/setup.sh keeps the busybox binaries:
// $ARCHC_TEST_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/archc-test.
func CacheDir() string {
	if d := os.Getenv("ARCHC_TEST_CACHE"); d != "" {
		return d
	}
	base := os.Getenv("XDG_CACHE_HOME")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache")
	}
	return filepath.Join(base, "archc-test")
}

func cachedBusybox(arch string) (string, error) {
	p, err := executable(filepath.Join(CacheDir(), arch, "bin", "busybox"))
	if err != nil {
		return "", fmt.Errorf("busybox-static for %s not cached: %w; %s", arch, err, setupHint)
	}
	return p, nil
}

func checkBinfmtAArch64() error {
	const entry = "/proc/sys/fs/binfmt_misc/qemu-aarch64"
	b, err := os.ReadFile(entry)
	if err != nil {
		return fmt.Errorf("arm64 emulation not registered (%s): %w; %s", entry, err, setupHint)
	}
	s := string(b)
	if !strings.HasPrefix(s, "enabled") {
		return fmt.Errorf("%s is disabled; %s", entry, setupHint)
	}
	for _, line := range strings.Split(s, "\n") {
		if flags, ok := strings.CutPrefix(line, "flags: "); ok && strings.Contains(flags, "F") {
			return nil
		}
	}
	return fmt.Errorf("%s lacks the F (fix-binary) flag, so it fails inside containers; %s", entry, setupHint)
}

func executable(p string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	if fi.IsDir() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s is not an executable file", p)
	}
	return p, nil
}

// binDir reads ARCHC_BIN_DIR, which the Makefile sets to the absolute path of bin/.
func binDir() (string, error) {
	dir := os.Getenv("ARCHC_BIN_DIR")
	if dir == "" {
		return "", fmt.Errorf("ARCHC_BIN_DIR is not set; run the tests with `make test`, or `make build` and export ARCHC_BIN_DIR=$PWD/bin")
	}
	if !filepath.IsAbs(dir) {
		return "", fmt.Errorf("ARCHC_BIN_DIR=%q must be an absolute path", dir)
	}
	return dir, nil
}

// BinDir returns the absolute directory holding bin/archc and bin/buildkitd (ARCHC_BIN_DIR),
// requiring both.
func BinDir(t testing.TB) string {
	t.Helper()
	Require(t, PartArchc)
	Require(t, PartBuildkitd)
	dir, _ := binDir()
	return dir
}
