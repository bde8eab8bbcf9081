// Package doctor finds what will break a build before the build does: the spec, the lock,
// DNS, each mirror's /v2/ and token realm, whether the mirrors serve the pinned images, the
// proxy, the builders (reachable, worker platforms, config drift from the spec) and clock
// skew. Each check is a value (a name, a deadline and a run function); Run runs them all
// concurrently and returns a Report, a plain value with text and JSON views.
//
// A verdict says what `archc apply` would then do: ✗ only when apply would fail, never for
// something it survives. A host that does not answer (a mirror, a registry's own name, the
// proxy) is judged by what is left (reach.go): apply skips a dead mirror and pulls from the
// next host, so it fails a check only when no host serves that registry's images, a push
// target is lost, or a remote builder makes apply stop. Mirror health is registry's rule
// (CheckMirror), asked once per run and shared by every check that depends on it.
//
// What is checked, and where it stops: the lock is always checked for completeness; a pinned
// tag is checked for being current only where its registry answers (offline, it is counted
// as "not checked", not as a problem). Names reached through the proxy are not looked up
// locally (the proxy resolves them), nor are registries that are mirrors_only or that no
// image or tag uses. The proxy's CONNECT is tried to the first https registry the spec
// sends through it unless Options.ConnectTarget (--connect-target) names another. A
// remote builder's config cannot be read, so drift is checked for local builders only.
//
// It sits to the right of registry, compiler and solver and reuses their exported APIs
// (CheckMirror, RegistryConfig, BaseImages, the lock, an offline Compile with stand-in
// bases, LocalStatus, Route, PlanRunNeeds, the buildkitd.toml renderer); none may import it. It must not change anything it inspects: no lock writes, no
// daemon starts or restarts. Every network call has a deadline, and secrets (proxy
// passwords, registry credentials) never appear in a Report.
package doctor
