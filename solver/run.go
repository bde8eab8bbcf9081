package solver

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/moby/buildkit/session"
	"golang.org/x/sync/errgroup"

	"github.com/archc-dev/archc/registry"
)

// RunOptions control Run.
type RunOptions struct {
	// Parallel bounds concurrent component solves; 0 means 4.
	Parallel int
	// KeepGoing lets independent components finish after a failure; by default the first
	// failure cancels every other solve.
	KeepGoing bool
	// Session are extra session attachables (registry auth).
	Session []session.Attachable
	// Secrets are each job's own secrets and ssh agents, added to its solves' sessions
	// (nil: none).
	Secrets *JobSecrets
	// Progress receives every solve's status.
	Progress *Progress
	// PushIndex assembles registry outputs whose platforms span builders.
	PushIndex IndexPusher
	// ReadIndex reads back the index of a multi-platform registry output solved on one
	// builder, for its platforms' manifest digests (nil: they are left out).
	ReadIndex IndexReader
	// Logf hears retries of failed pushes and builds re-run after their builder went
	// away (nil: silent).
	Logf func(format string, args ...any)
	// Bases serves the pinned base images from archc's content cache (nil: the daemon
	// pulls them itself; tests only).
	Bases *Bases
}

// Run solves jobs in dependency order, independent ones in parallel, each platform build
// on a builder the farm's scheduler picks (Candidates, max_parallel, affinity), re-run on
// another one when its builder goes away. It returns one Result per job, in jobs' order,
// and an error when any job failed or was skipped.
func Run(ctx context.Context, farm Farm, jobs []*Job, opts RunOptions) ([]Result, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sched := newScheduler(farm)

	results := make([]Result, len(jobs))
	done := make(map[string]chan struct{}, len(jobs))
	index := make(map[string]int, len(jobs))
	for i, j := range jobs {
		done[j.Component] = make(chan struct{})
		index[j.Component] = i
	}
	sem := make(chan struct{}, opts.Parallel)
	var eg errgroup.Group
	for i, j := range jobs {
		eg.Go(func() error {
			defer close(done[j.Component])
			r := &results[i]
			r.Component, r.Platforms, r.Output = j.Component, j.Platforms(), j.Output
			for _, dep := range j.DependsOn {
				ch, ok := done[dep]
				if !ok {
					continue
				}
				<-ch
				if d := results[index[dep]]; d.Err != nil || d.Skipped {
					skip(r, j, fmt.Errorf("component %s: not built because %s failed", j.Component, dep))
					return nil
				}
			}
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
			}
			// Checked apart from the select, which picks at random when both are ready: the
			// slot a cancelled solve frees must not start another.
			if ctx.Err() != nil {
				skip(r, j, fmt.Errorf("component %s: cancelled before it started", j.Component))
				return nil
			}
			(&jobRun{sched: sched, job: j, opts: opts, res: r}).run(ctx)
			if r.Err != nil && !opts.KeepGoing {
				cancel()
			}
			return nil
		})
	}
	_ = eg.Wait()
	var errs []error
	for _, r := range results {
		if r.Err != nil && !r.Skipped {
			errs = append(errs, r.Err)
		}
	}
	if len(errs) == 0 {
		for _, r := range results {
			if r.Skipped {
				errs = append(errs, r.Err)
			}
		}
	}
	return results, errors.Join(errs...)
}

// skip marks a job that never started and each of its platform builds. Its epoch is still
// reported (a job that runs reports it from jobRun.prepare).
func skip(r *Result, j *Job, err error) {
	r.Skipped, r.Err = true, err
	r.SourceDateEpoch, _ = jobEpoch(j) // a disagreement would have failed its export
	for _, p := range j.Platforms() {
		r.Builds = append(r.Builds, BuildResult{Platform: p, Status: StatusSkipped, Err: err})
		r.Builders = append(r.Builders, "")
	}
}

// retryPush runs solve again when its push failed for a reason worth retrying (a 503 from
// the registry, a reset): the build is cached by then, so only the export is redone.
// Anything else (a failing RUN) is returned at once.
func retryPush(ctx context.Context, j *Job, opts RunOptions, solve func() error) error {
	logf := func(format string, args ...any) {
		if opts.Logf != nil {
			opts.Logf("component %s: push failed: "+format, append([]any{j.Component}, args...)...)
		}
	}
	return registry.Retry(ctx, logf, isPushFailure, solve)
}

// isPushFailure reports whether a solve failed while its exporter pushed (BuildKit's
// exporter says "failed to push REF: ...").
func isPushFailure(err error) bool { return strings.Contains(err.Error(), "failed to push") }

func failure(ctx context.Context, j *Job, b *Builder, t *tracker, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("component %s: cancelled: %w", j.Component, context.Cause(ctx))
	}
	return buildError(j, b, t, err)
}
