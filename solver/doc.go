// Package solver owns everything that talks to BuildKit daemons: the lifecycle of the local
// builder (start, reuse, restart on config drift, stop), connections to remote builders,
// routing platforms to builders, sessions (registry auth, local contexts), multi-platform
// solves through a gateway callback, exports, progress and the final results table.
//
// It must not re-resolve base images or re-compile Dockerfiles: it builds exactly the
// definitions the compiler's Plan fixed. buildkitd.toml rendering lives in
// buildkitdconfig*.go (owned by the registry side) and is only called from here.
package solver
