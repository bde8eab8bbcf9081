package solver

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/moby/buildkit/session"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// ApplyOptions control Apply.
type ApplyOptions struct {
	// Parallel bounds concurrent component solves (0: 4).
	Parallel int
	// KeepGoing lets independent components finish after a failure.
	KeepGoing bool
	// ProgressMode is "auto", "tty", "plain", "rawjson" or "quiet".
	ProgressMode string
	// ProgressOut receives the progress display (stderr).
	ProgressOut io.Writer
	// Out receives messages (dead mirrors, daemon restarts).
	Out io.Writer
	// Cache is archc's content cache: the builders read the bases from it.
	Cache *registry.Cache
	// Fetcher downloads the bases into Cache (the run's registry.Resolver, which already
	// knows which mirrors are down).
	Fetcher BaseFetcher
	// Force solves every build, also those found up to date (apply --force, --no-cache).
	Force bool
	// Pushes is the push state the caller already read for this plan (its plan view's
	// Expectations), so the up-to-date check hashes no identity and reads no record
	// again. nil, or a state made for another plan (such as the plan before
	// compiler.WithoutCache), and Apply reads its own.
	Pushes *PushState
	// Records holds the push records when Apply reads its own push state ("":
	// PushRecordsDir); ResolveTag checks a tag (nil: NewTagResolver). Tests set them.
	Records    PushRecords
	ResolveTag TagResolver
}

// Apply builds a plan: the components found up to date are set aside first (fastPath:
// nothing is sent to a builder for them), then builders (Connect; those down are skipped with a warning unless
// required, see Availability), no build starts when a platform, or the build platform
// its stages need, has no builder left, phase 1 downloads every distinct base into archc's content cache (the
// builders read them from there, see Bases), phase 2 solves the component DAG. It returns
// one Result per component.
func Apply(ctx context.Context, s *spec.Spec, p *compiler.Plan, o ApplyOptions) ([]Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	jobs, err := JobsFromPlan(p, s)
	if err != nil {
		return nil, err
	}
	secrets, err := NewJobSecrets(s, p, jobs, os.LookupEnv)
	if err != nil {
		return nil, err
	}
	auth, err := NewAuth(s, o.Out)
	if err != nil {
		return nil, err
	}
	all := jobs
	done, jobs, record := o.fastPath(ctx, s, p, jobs, auth.HostCredentials)
	if len(jobs) == 0 {
		return mergeResults(all, done, nil), nil // nothing to send to any builder
	}
	builders, down, err := Connect(ctx, s, ConnectOptions{Out: o.Out})
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, b := range builders {
			b.Close()
		}
	}()
	need := map[string][]string{}
	for _, j := range jobs {
		need[j.Component] = j.Platforms()
	}
	warnings, err := Availability(s, builders, down, need)
	for _, w := range warnings {
		fmt.Fprintf(o.Out, "warning: %s\n", spec.SafeLine(spec.RedactText(w)))
	}
	if err != nil {
		return nil, err
	}
	if err := checkCandidates(Farm{Spec: s, Builders: builders}, jobs); err != nil {
		return nil, err
	}
	affPath, err := AffinityPath()
	if err != nil {
		return nil, err
	}
	affinity := LoadAffinity(affPath, s)
	attach := []session.Attachable{auth}
	mask := secrets.Mask(s.Scrubber())
	prog, err := NewProgress(ctx, o.ProgressOut, o.ProgressMode, WithMask(mask))
	if err != nil {
		return nil, err
	}
	if o.Cache == nil || o.Fetcher == nil {
		prog.Close()
		return nil, fmt.Errorf("apply: no content cache to serve the bases from")
	}
	bases, err := NewBases(p, o.Cache)
	if err != nil {
		prog.Close()
		return nil, err
	}
	start := time.Now()
	if err := o.Fetcher.FetchBases(ctx, bases.Content); err != nil {
		prog.Close()
		return nil, fmt.Errorf("phase 1 (download base images): %w", err)
	}
	timing(o.Out, "phase 1: %d base images in the content cache in %s", len(bases.Content), time.Since(start))
	start = time.Now()
	pushIndex, err := NewIndexPusher(s, auth.HostCredentials)
	if err != nil {
		prog.Close()
		return nil, err
	}
	readIndex, err := NewIndexReader(s, auth.HostCredentials)
	if err != nil {
		prog.Close()
		return nil, err
	}
	results, runErr := Run(ctx, Farm{Spec: s, Builders: builders, Affinity: affinity}, jobs, RunOptions{
		Parallel: o.Parallel, KeepGoing: o.KeepGoing, Session: attach, Secrets: secrets, Progress: prog,
		PushIndex: pushIndex, ReadIndex: readIndex, Bases: bases,
		Logf: func(format string, args ...any) {
			fmt.Fprintln(o.Out, spec.SafeText(mask(fmt.Sprintf(format, args...))))
		},
	})
	if err := prog.Close(); err != nil && runErr == nil && ctx.Err() == nil {
		runErr = fmt.Errorf("progress display: %w", err)
	}
	timing(o.Out, "phase 2: %d components in %s", len(jobs), time.Since(start))
	if err := affinity.Save(); err != nil {
		fmt.Fprintf(o.Out, "warning: %s\n", spec.SafeLine(err.Error()))
	}
	record(results)
	return mergeResults(all, done, results), maskError(runErr, mask)
}

// timing prints a phase's duration when ARCHC_TIMING is set (bench-apply sets it).
func timing(w io.Writer, format string, args ...any) {
	if os.Getenv("ARCHC_TIMING") != "" {
		fmt.Fprintf(w, "timing: "+format+"\n", args...)
	}
}
