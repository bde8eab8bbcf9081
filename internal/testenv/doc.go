// Package testenv starts the real loopback services archc's tests run against: Debian's
// docker-registry, seeded multi-arch busybox images, a fault-injecting reverse proxy, a forward
// HTTP(S) proxy, a token-auth registry front, tinyproxy and buildkitd.
//
// Every listener binds 127.0.0.1 and nothing here sends traffic beyond 127.0.0.0/8; the forward
// proxy refuses any other destination without resolving it. A part that is missing (a binary,
// the busybox cache, arm64 emulation) skips the test, except under CI=true where it fails it:
// in CI a missing part is a failure, never a skip. `make setup` (scripts/setup.sh) installs them.
//
// The package must not know archc's own packages: it provides infrastructure, not assertions.
package testenv
