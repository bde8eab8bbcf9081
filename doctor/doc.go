// Package doctor finds what will break a build before the build does: the spec, the lock,
// DNS, each mirror's /v2/ and token realm, whether the mirrors serve the pinned images, the
// proxy, the builders (reachable, worker platforms, config drift from the spec) and clock
// skew. Each check is a value (a name, a deadline and a run function); Run runs them all
// concurrently and returns a Report, a plain value with text and JSON views.
//
// It sits to the right of registry and solver and reuses their exported APIs (CheckMirror,
// RegistryConfig, BaseImages, the lock, LocalStatus, Route, the buildkitd.toml renderer);
// neither may import it. It must not change anything it inspects: no lock writes, no
// daemon starts or restarts. Every network call has a deadline, and secrets (proxy
// passwords, registry credentials) never appear in a Report.
package doctor
