package solver

import (
	"slices"
	"time"

	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/solver/pb"
)

// Job is one component's solve: every platform's definition in one client.Build, so a
// registry output gets one index.
type Job struct {
	// Component is the component's name.
	Component string
	// Builds are the component's platforms, in the spec's order.
	Builds []PlatformBuild
	// LocalDirs maps the llb.Local names the definitions use to directories.
	LocalDirs map[string]string
	// Output is one of spec.Output*.
	Output string
	// Tags are pushed for a registry output; the first names the image of an oci output.
	Tags []string
	// OutputPath is the destination of oci (tarball) and local (directory) outputs.
	OutputPath string
	// Insecure pushes over plain HTTP or without TLS verification (registry.insecure).
	Insecure bool
	// DependsOn are the components that must finish first.
	DependsOn []string
	// Dockerfile is the component's Dockerfile (absolute), for locating a failed step.
	Dockerfile string
	// CacheImports and CacheExports are the component's cache_from and cache_to, passed to
	// every solve of the job (client.SolveOpt).
	CacheImports []client.CacheOptionsEntry
	CacheExports []client.CacheOptionsEntry
}

// PlatformBuild is one platform of a Job.
type PlatformBuild struct {
	// Platform is normalized, e.g. "linux/arm64".
	Platform string
	// Def is the compiler's definition for this platform.
	Def *pb.Definition
	// ImageConfig is the image config JSON from the compile; nil for none.
	ImageConfig []byte
	// Entitlements are what Def's steps need, sorted (compiler.Build.Entitlements, checked
	// against the component's allow at compile time); a solve of this build is granted them.
	Entitlements []string
	// RunPlatforms are the platforms Def's RUN steps execute on, normalized, sorted
	// (execPlatforms, computed once by JobsFromPlan): the scheduler checks a builder
	// against them without decoding Def.
	RunPlatforms []string
}

// Platforms returns the job's platforms in order.
func (j *Job) Platforms() []string {
	out := make([]string, len(j.Builds))
	for i, b := range j.Builds {
		out[i] = b.Platform
	}
	return out
}

// Result is the outcome of one Job.
type Result struct {
	Component string
	Platforms []string
	// Builders names the builder of each platform, in Platforms' order (the last one it
	// ran on; "" when it never started).
	Builders []string
	// Output is the job's output kind (spec.Output*).
	Output string
	// Tags are the tags the component's image went under (registry output, on success).
	Tags []string
	// Digest is what was exported: the index (or manifest) digest for registry and oci
	// outputs; "" otherwise.
	Digest string
	// Duration is the wall time of the component, from its first solve to its last.
	Duration time.Duration
	// Steps and CachedSteps count the completed vertices and those served from cache.
	Steps, CachedSteps int
	// Err is the failure; Skipped means a dependency failed or the run was cancelled first.
	Err     error
	Skipped bool
	// UpToDate means nothing was sent to a builder: the inputs are those of a push archc
	// recorded and every tag still names it (Digest and Tags are the record's).
	UpToDate bool
	// SourceDateEpoch is the epoch the images were made reproducible with ("" for none).
	SourceDateEpoch string
	// Builds are the platform builds, in Platforms' order.
	Builds []BuildResult
}

// Statuses of a BuildResult.
const (
	StatusBuilt     = "built"
	StatusCached    = "cached"
	StatusFailed    = "failed"
	StatusCancelled = "cancelled"
	StatusSkipped   = "skipped"
	// StatusUpToDate: not solved, the recorded push still stands (Result.UpToDate).
	StatusUpToDate = "up to date"
)

// BuildResult is the outcome of one platform build of a component.
type BuildResult struct {
	Platform string
	// Builder ran the build (its last attempt); "" when it never started.
	Builder string
	// Status is one of Status*.
	Status string
	// Steps and CachedSteps count this platform's completed exec and file steps and those
	// served from cache (a step shared by platforms counts for each).
	Steps, CachedSteps int
	// Duration is the wall time of this platform's solves (re-runs included).
	Duration time.Duration
	// Digest is the platform's image manifest digest, when known (registry and oci
	// outputs).
	Digest string
	// Attestation is the digest of the platform's attestation manifest (provenance, SBOM),
	// when it has one and it is known.
	Attestation string
	// Lost names the builders that went away while they ran this build; it was re-run
	// on the next one.
	Lost []string
	// Err is why it failed, was cancelled or skipped.
	Err error
}

// State is "cached" when every step came from the cache (and there was one), else "built" (or "failed",
// "skipped", "up to date").
func (r *Result) State() string {
	switch {
	case r.UpToDate:
		return StatusUpToDate
	case r.Skipped:
		return "skipped"
	case r.Err != nil:
		return "failed"
	case r.Steps > 0 && r.Steps == r.CachedSteps:
		return "cached"
	default:
		return "built"
	}
}

// countsFor returns the completed steps of one platform's definition and those cached.
func (t *tracker) countsFor(platform string) (steps, cached int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for d := range t.done {
		if !t.steps[d] || !slices.Contains(t.plats[d], platform) {
			continue
		}
		steps++
		if t.cached[d] {
			cached++
		}
	}
	return steps, cached
}
