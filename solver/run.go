package solver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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
	// Progress receives every solve's status.
	Progress *Progress
	// PushIndex assembles registry outputs whose platforms span builders.
	PushIndex IndexPusher
	// Logf hears retries of failed pushes (nil: silent).
	Logf func(format string, args ...any)
	// Bases serves the pinned base images from archc's content cache (nil: the daemon
	// pulls them itself; tests only).
	Bases *Bases
}

// Run solves jobs in dependency order, independent ones in parallel, each on the
// builders route assigns to its platforms. It returns one Result per job, in jobs' order,
// and an error when any job failed or was skipped.
func Run(ctx context.Context, route map[string]*Builder, jobs []*Job, opts RunOptions) ([]Result, error) {
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

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
			r.Component, r.Platforms = j.Component, j.Platforms()
			for _, dep := range j.DependsOn {
				ch, ok := done[dep]
				if !ok {
					continue
				}
				<-ch
				if d := results[index[dep]]; d.Err != nil || d.Skipped {
					r.Skipped, r.Err = true, fmt.Errorf("component %s: not built because %s failed", j.Component, dep)
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
				r.Skipped, r.Err = true, fmt.Errorf("component %s: cancelled before it started", j.Component)
				return nil
			}
			runJob(ctx, route, j, opts, r)
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

// runJob solves one job, split by builder when its platforms live on several.
func runJob(ctx context.Context, route map[string]*Builder, j *Job, opts RunOptions, r *Result) {
	start := time.Now()
	defer func() { r.Duration = time.Since(start) }()
	groups, order := splitByBuilder(route, j)
	for _, p := range r.Platforms {
		r.Builders = append(r.Builders, route[p].Name)
	}
	t := newTracker(j, j.Builds)
	defer func() { r.Steps, r.CachedSteps = t.counts() }()
	if len(order) == 1 {
		b := order[0]
		ex, err := exports(j)
		if err != nil {
			r.Err = err
			return
		}
		var dgst string
		err = retryPush(ctx, j, opts, func() error {
			var err error
			dgst, err = solveOn(ctx, b, j, groups[b], ex, opts, t)
			return err
		})
		if err != nil {
			r.Err = failure(ctx, j, b, t, err)
			return
		}
		r.Digest = dgst
		return
	}
	dgst, err := solveSplit(ctx, j, groups, order, opts, t)
	if err != nil {
		r.Err = err
		return
	}
	r.Digest = dgst
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

// splitByBuilder groups a job's platform builds by their builder, in first-use order.
func splitByBuilder(route map[string]*Builder, j *Job) (map[*Builder][]PlatformBuild, []*Builder) {
	groups := map[*Builder][]PlatformBuild{}
	var order []*Builder
	for _, pb := range j.Builds {
		b := route[pb.Platform]
		if _, ok := groups[b]; !ok {
			order = append(order, b)
		}
		groups[b] = append(groups[b], pb)
	}
	return groups, order
}
