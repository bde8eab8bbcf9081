// Package e2e runs bin/archc (from ARCHC_BIN_DIR) against real parts: its own local
// buildkitd (runc, overlayfs), Debian's docker-registry as docker.io mirror and as push
// target, qemu-user-static for linux/arm64, and testenv's blackhole, proxy and token-auth
// fronts. Tests assert on what was pushed, not on log text. A missing part skips the tests,
// or fails them under CI=true.
package e2e
