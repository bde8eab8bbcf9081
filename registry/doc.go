// Package registry owns everything archc learns from container registries: the spec's
// registry and proxy blocks turned into BuildKit's resolver configuration (one value for
// buildkitd.toml and for archc's own client), base-image discovery in Dockerfiles, resolving
// tags to digests per platform through mirrors with classified retries, the on-disk content
// cache of immutable blobs (image indexes, manifests, configs), and the lock file
// archbuild.lock.hcl.
//
// It must not know about LLB, plans or BuildKit daemons: it answers "which digest, from which
// host" and "what is the image config", nothing more. HTTP is done by containerd's
// remotes/docker client over transports that honour the spec's proxy; secrets never leave
// this package in errors, logs or the lock.
package registry
