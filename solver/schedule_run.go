package solver

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/moby/buildkit/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
	"github.com/tonistiigi/fsutil"

	"github.com/archc-dev/archc/spec"
)

// jobRun runs one job's platform builds on the builders the scheduler assigns, until
// each is done or failed: those whose builder went away are assigned again.
type jobRun struct {
	sched *scheduler
	job   *Job
	opts  RunOptions
	res   *Result
	t     *tracker

	// What every solve of the job shares, worked out once by prepare.
	epoch  string               // jobEpoch, "" without one
	ex     []client.ExportEntry // the job's exports (a split solve derives its own)
	mounts map[string]fsutil.FS // the job's local directories

	mu    sync.Mutex
	pos   map[string]int                 // platform → index in res.Builds
	descs map[string]ocispecs.Descriptor // platform → manifest pushed by digest (split)
	gone  map[string]string              // platform → why it is re-run
}

func (r *jobRun) run(ctx context.Context) {
	j, res := r.job, r.res
	start := time.Now()
	r.t = newTracker(j, j.Builds)
	r.pos, r.descs, r.gone = map[string]int{}, map[string]ocispecs.Descriptor{}, map[string]string{}
	res.Builds = make([]BuildResult, len(j.Builds))
	for i, pb := range j.Builds {
		res.Builds[i].Platform = pb.Platform
		r.pos[pb.Platform] = i
	}
	defer func() { res.Duration = time.Since(start); r.finish() }()
	if err := r.prepare(); err != nil {
		r.fail(j.Builds, StatusFailed, err)
		return
	}
	pending, split := j.Builds, false
	for len(pending) > 0 {
		a, err := r.sched.acquire(ctx, j, pending)
		if err != nil {
			status := StatusFailed
			if ctx.Err() != nil {
				status, err = StatusCancelled, fmt.Errorf("component %s: cancelled: %w", j.Component, context.Cause(ctx))
			}
			r.fail(pending, status, err)
			return
		}
		r.announce(a)
		if !split && len(a.order) == 1 && len(pending) == len(j.Builds) {
			pending = r.grouped(ctx, a)
			continue
		}
		split = true
		pending = r.split(ctx, a)
	}
	if split && j.Output == spec.OutputRegistry && res.Err == nil {
		r.pushIndex(ctx)
	}
}

// prepare works out, once per run, what the job's solves share: its epoch (also its
// result's), its exports, and its local mounts, opened before any builder is asked to
// solve without its files.
func (r *jobRun) prepare() error {
	j := r.job
	epoch, epochErr := jobEpoch(j)
	r.res.SourceDateEpoch = epoch // reported even when the export is refused
	ex, err := outputExports(j)
	if err != nil {
		return err
	}
	if epochErr != nil {
		return epochErr
	}
	r.epoch, r.ex = epoch, withEpoch(epoch, ex)
	r.mounts, err = localMounts(j)
	return err
}

// announce says, for each build re-run after its builder went away, where it goes now.
func (r *jobRun) announce(a *assignment) {
	for _, b := range a.order {
		for _, pb := range a.groups[b] {
			if why, ok := r.gone[pb.Platform]; ok && r.opts.Logf != nil {
				r.opts.Logf("%s; re-running %s (%s) on %s", why, r.job.Component, pb.Platform, b.Name)
			}
			delete(r.gone, pb.Platform)
		}
	}
}

// grouped solves every platform on one builder in one client.Build: BuildKit writes the
// index and pushes it under every tag.
func (r *jobRun) grouped(ctx context.Context, a *assignment) []PlatformBuild {
	b := a.order[0]
	builds := a.groups[b]
	r.started(b, builds)
	start := time.Now()
	var dgst string
	err := retryPush(ctx, r.job, r.opts, func() error {
		var err error
		dgst, err = r.solveOn(ctx, b, builds)
		return err
	})
	r.sched.release(a)
	r.took(builds, time.Since(start))
	if err != nil {
		return r.failed(ctx, b, builds, err)
	}
	r.res.Digest = dgst
	r.succeeded(builds, b)
	if len(builds) == 1 && !r.opts.Bases.asIndex(r.job.Component) {
		r.res.Builds[0].Digest = dgst
	} else if r.job.Output == spec.OutputRegistry && r.opts.ReadIndex != nil && dgst != "" {
		r.platformDigests(ctx, dgst)
	}
	return nil
}

// platformDigests reads the pushed index back for each platform's manifest digest.
func (r *jobRun) platformDigests(ctx context.Context, dgst string) {
	ms, err := r.opts.ReadIndex(ctx, r.job.Tags[0], dgst)
	if err != nil {
		if r.opts.Logf != nil {
			r.opts.Logf("component %s: read back the index %s for its platforms' digests: %v", r.job.Component, dgst, err)
		}
		return
	}
	r.recordPlatformDigests(ms)
}

// split solves each platform on its own (registry outputs pushed by digest, see
// solvePlatform), concurrently; a failing build cancels its siblings, one whose builder
// went away does not. It returns the builds to run again.
func (r *jobRun) split(ctx context.Context, a *assignment) []PlatformBuild {
	jctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var again []PlatformBuild
	for _, b := range a.order {
		r.started(b, a.groups[b])
		for _, pb := range a.groups[b] {
			wg.Add(1)
			go func() {
				defer wg.Done()
				start := time.Now()
				d, err := r.solvePlatform(jctx, b, pb)
				r.took([]PlatformBuild{pb}, time.Since(start))
				if err == nil {
					r.mu.Lock()
					r.descs[pb.Platform] = d
					r.res.Builds[r.pos[pb.Platform]].Digest = d.Digest.String()
					r.mu.Unlock()
					r.succeeded([]PlatformBuild{pb}, b)
					return
				}
				loss := isConnectionLoss(jctx, err)
				rerun := r.failed(jctx, b, []PlatformBuild{pb}, err)
				if !loss {
					cancel() // after failed has recorded it as a failure, not a cancellation
				}
				mu.Lock()
				again = append(again, rerun...)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	r.sched.release(a)
	if r.res.Err != nil {
		return nil // a build failed: the others were cancelled, nothing is re-run
	}
	return again
}

// failed records a failed solve on b. When the connection to b dropped, b is lost for the
// rest of the run and the builds are returned to be re-run elsewhere (at most maxReruns
// times each; never when b is required).
func (r *jobRun) failed(ctx context.Context, b *Builder, builds []PlatformBuild, err error) []PlatformBuild {
	if !isConnectionLoss(ctx, err) {
		status := StatusFailed
		if ctx.Err() != nil {
			status = StatusCancelled
		}
		r.fail(builds, status, failure(ctx, r.job, b, r.t, err))
		return nil
	}
	r.sched.markLost(b, err)
	var again []PlatformBuild
	for _, pb := range builds {
		r.mu.Lock()
		br := &r.res.Builds[r.pos[pb.Platform]]
		br.Lost = append(br.Lost, b.Name)
		tries := len(br.Lost)
		r.mu.Unlock()
		switch {
		case r.sched.required(b):
			r.fail([]PlatformBuild{pb}, StatusFailed, r.lostError(b, pb, err, "it is required (required = true), so the build is not re-run elsewhere"))
		case tries > maxReruns:
			r.fail([]PlatformBuild{pb}, StatusFailed, r.lostError(b, pb, err, fmt.Sprintf("already re-run %d times", maxReruns)))
		default:
			r.mu.Lock()
			r.gone[pb.Platform] = fmt.Sprintf("builder %q went away: %v", b.Name, err)
			r.mu.Unlock()
			again = append(again, pb)
		}
	}
	return again
}

func (r *jobRun) lostError(b *Builder, pb PlatformBuild, err error, reason string) error {
	return fmt.Errorf("component %s (%s): %w", r.job.Component, pb.Platform, &LostError{Builder: b.Name, Reason: reason, Err: err})
}

// fail marks builds as failed (or cancelled) with err; the component's error is its first
// failure, a cancellation only when nothing failed.
func (r *jobRun) fail(builds []PlatformBuild, status string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pb := range builds {
		br := &r.res.Builds[r.pos[pb.Platform]]
		br.Status, br.Err = status, err
	}
	if r.res.Err == nil || (status == StatusFailed && r.res.cancelledOnly()) {
		r.res.Err = err
	}
}

func (r *Result) cancelledOnly() bool {
	for _, b := range r.Builds {
		if b.Status == StatusFailed {
			return false
		}
	}
	return true
}

func (r *jobRun) started(b *Builder, builds []PlatformBuild) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pb := range builds {
		r.res.Builds[r.pos[pb.Platform]].Builder = b.Name
	}
}

func (r *jobRun) took(builds []PlatformBuild, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pb := range builds {
		r.res.Builds[r.pos[pb.Platform]].Duration += d
	}
}

func (r *jobRun) succeeded(builds []PlatformBuild, b *Builder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pb := range builds {
		r.res.Builds[r.pos[pb.Platform]].Status = StatusBuilt
		r.sched.farm.Affinity.Record(r.job.Component, pb.Platform, b.Name)
	}
}

// pushIndex pushes the index of a split registry output under every tag.
func (r *jobRun) pushIndex(ctx context.Context) {
	j := r.job
	if r.opts.PushIndex == nil {
		r.res.Err = fmt.Errorf("component %s: platforms span builders but no index pusher is configured", j.Component)
		return
	}
	descs, err := r.indexManifests(ctx)
	if err != nil {
		r.res.Err = fmt.Errorf("component %s: push index: %w", j.Component, err)
		return
	}
	d, err := r.opts.PushIndex(ctx, j.Tags, descs, r.opts.Bases.indexAnnotations(j.Component))
	if err != nil {
		r.res.Err = fmt.Errorf("component %s: push index: %w", j.Component, err)
		return
	}
	r.res.Digest = d.String()
}

// finish fills the counts, the builders column and the statuses of builds that succeeded
// (cached when every step came from the cache).
func (r *jobRun) finish() {
	res := r.res
	res.Steps, res.CachedSteps = r.t.counts()
	res.Builders = make([]string, len(res.Builds))
	for i := range res.Builds {
		br := &res.Builds[i]
		br.Steps, br.CachedSteps = r.t.countsFor(br.Platform)
		res.Builders[i] = br.Builder
		if br.Status == StatusBuilt && br.Steps > 0 && br.Steps == br.CachedSteps {
			br.Status = StatusCached
		}
		if br.Status == "" {
			br.Status, br.Err = StatusCancelled, res.Err
		}
	}
	if res.Err == nil && res.Output == spec.OutputRegistry {
		res.Tags = r.job.Tags
	}
}

// indexManifests are the manifests of a split component's index, in the spec's platform
// order. A platform pushed with attestations is an index of its own (its image manifest and
// its attestation manifest): its manifests are listed, not the nested index, as BuildKit
// lists them in an index it writes itself.
func (r *jobRun) indexManifests(ctx context.Context) ([]ocispecs.Descriptor, error) {
	var out []ocispecs.Descriptor
	for _, pb := range r.job.Builds {
		d := r.descs[pb.Platform]
		if !images.IsIndexType(d.MediaType) {
			out = append(out, d)
			continue
		}
		if r.opts.ReadIndex == nil {
			return nil, fmt.Errorf("%s was pushed as an index, and there is no index reader to list it", pb.Platform)
		}
		ms, err := r.opts.ReadIndex(ctx, r.job.Tags[0], d.Digest.String())
		if err != nil {
			return nil, fmt.Errorf("read back %s's index %s: %w", pb.Platform, d.Digest, err)
		}
		r.recordPlatformDigests(ms)
		out = append(out, ms...)
	}
	return out, nil
}

// recordPlatformDigests fills each build's manifest digest, and the digest of its
// attestation manifest, from the manifests an index lists.
func (r *jobRun) recordPlatformDigests(ms []ocispecs.Descriptor) {
	byManifest := map[string]int{}
	for _, m := range ms {
		if m.Platform == nil || m.Annotations[attestationRefType] != "" {
			continue
		}
		if i, ok := r.pos[spec.FormatPlatform(*m.Platform)]; ok {
			r.res.Builds[i].Digest = m.Digest.String()
			byManifest[m.Digest.String()] = i
		}
	}
	for _, m := range ms {
		if m.Annotations[attestationRefType] != attestationManifest {
			continue
		}
		if i, ok := byManifest[m.Annotations[attestationRefDigest]]; ok {
			r.res.Builds[i].Attestation = m.Digest.String()
		}
	}
}

// The annotations BuildKit puts on an attestation manifest's descriptor in an index.
const (
	attestationRefType   = "vnd.docker.reference.type"
	attestationRefDigest = "vnd.docker.reference.digest"
	attestationManifest  = "attestation-manifest"
)
