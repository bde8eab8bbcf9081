// Package compiler owns the lowering of a spec.Spec to LLB: one dockerfile2llb call per
// component × platform, base images pinned from the lock, named contexts between
// components, proxy injection, local context digests, the Plan value and its views (text,
// JSON, DOT), plan comparison and the plan file that apply builds from.
//
// It must not talk to buildkitd: it never imports github.com/moby/buildkit/client or
// archc's solver (a test enforces it). Image metadata comes only through the narrow Images
// interface, so a plan with a complete lock and a warm cache needs no network.
package compiler
