package solver

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/client/llb"
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	"github.com/moby/buildkit/session"
	"golang.org/x/sync/errgroup"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
)

// Base is one pinned base image to pull into a builder's cache.
type Base struct {
	// Ref is "name@sha256:..." (no tag).
	Ref      string
	Platform string
}

// BasesByBuilder lists the distinct pinned bases of a plan per builder that will use them
// (a base is pulled on the builder of each build that needs it), sorted.
func BasesByBuilder(p *compiler.Plan, route map[string]*Builder) (map[*Builder][]Base, error) {
	seen := map[*Builder]map[Base]bool{}
	for _, b := range p.Builds {
		bk := route[b.Platform]
		if bk == nil {
			continue
		}
		for _, x := range b.Bases {
			named, err := reference.ParseNormalizedNamed(x.Ref)
			if err != nil {
				return nil, fmt.Errorf("build %s: base %q: %w", b.ID, x.Ref, err)
			}
			base := Base{Ref: reference.TrimNamed(named).String() + "@" + x.Digest.String(), Platform: x.Platform}
			if seen[bk] == nil {
				seen[bk] = map[Base]bool{}
			}
			seen[bk][base] = true
		}
	}
	out := map[*Builder][]Base{}
	for bk, set := range seen {
		for base := range set {
			out[bk] = append(out[bk], base)
		}
		sort.Slice(out[bk], func(i, j int) bool {
			if out[bk][i].Ref != out[bk][j].Ref {
				return out[bk][i].Ref < out[bk][j].Ref
			}
			return out[bk][i].Platform < out[bk][j].Platform
		})
	}
	return out, nil
}

// PrefetchOptions control Prefetch.
type PrefetchOptions struct {
	// Concurrency bounds the pulls per builder; 4 when 0.
	Concurrency int
	// Attempts per base for transient failures; 3 when 0.
	Attempts int
	Session  []session.Attachable
	Progress *Progress
}

// Prefetch pulls every base once into its builder's cache (phase 1 of apply), so that
// phase 2's solves do not each wait on the registry, and a missing or unreachable base is
// reported once, by name, before any component starts. Transient failures are retried with
// backoff; the error lists every base that failed.
func Prefetch(ctx context.Context, bases map[*Builder][]Base, o PrefetchOptions) error {
	if o.Concurrency <= 0 {
		o.Concurrency = 4
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	var eg errgroup.Group
	errs := make([]error, 0)
	ch := make(chan error, 64)
	for bk, list := range bases {
		eg.Go(func() error {
			t := newTracker(&Job{Component: "prefetch"}, nil)
			_, err := bk.Client.Build(ctx, client.SolveOpt{Session: o.Session}, "archc", func(ctx context.Context, c gateway.Client) (*gateway.Result, error) {
				var peg errgroup.Group
				peg.SetLimit(o.Concurrency)
				for _, base := range list {
					peg.Go(func() error {
						if err := pullWithRetry(ctx, c, base, o.Attempts); err != nil {
							ch <- fmt.Errorf("prefetch %s (%s) on builder %s: %w", base.Ref, base.Platform, bk.Name, err)
						}
						return nil
					})
				}
				_ = peg.Wait()
				return gateway.NewResult(), nil
			}, t.follow(o.Progress))
			if err != nil {
				ch <- fmt.Errorf("prefetch on builder %s: %w", bk.Name, err)
			}
			return nil
		})
	}
	go func() { _ = eg.Wait(); close(ch) }()
	for err := range ch {
		errs = append(errs, err)
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
	return errors.Join(errs...)
}

func pullWithRetry(ctx context.Context, c gateway.Client, base Base, attempts int) error {
	st := llb.Image(base.Ref, llb.Platform(platforms.Normalize(platforms.MustParse(base.Platform))), llb.WithCustomName("[prefetch] "+base.Ref+" ("+base.Platform+")"))
	def, err := st.Marshal(ctx)
	if err != nil {
		return err
	}
	return retry(ctx, attempts, time.Second, func() error { return pull(ctx, c, def) })
}

// maxBackoff caps the delay between two pulls of one base.
const maxBackoff = 10 * time.Second

// retry runs try up to attempts times, with capped, jittered exponential backoff
// (registry.Backoff) in between, while the failure is one registry.Classify calls retryable
// (the registry's own policy: timeouts, refused and reset connections, 5xx, 429). The
// error names its class and the attempts made.
func retry(ctx context.Context, attempts int, backoff time.Duration, try func() error) error {
	for i := 1; ; i++ {
		err := try()
		if err == nil {
			return nil
		}
		class := registry.Classify(err)
		if i >= attempts || !class.Retryable() || ctx.Err() != nil {
			if i > 1 {
				return fmt.Errorf("%w (%s, %d attempts)", err, class, i)
			}
			return err
		}
		select {
		case <-time.After(registry.Backoff(backoff, maxBackoff, i-1)):
		case <-ctx.Done():
			return fmt.Errorf("%w (%s; gave up retrying: %w)", err, class, ctx.Err())
		}
	}
}

func pull(ctx context.Context, c gateway.Client, def *llb.Definition) error {
	res, err := c.Solve(ctx, gateway.SolveRequest{Definition: def.ToPB(), Evaluate: true})
	if err != nil {
		return err
	}
	ref, err := res.SingleRef()
	if err != nil {
		return err
	}
	// Reading the root mounts the snapshot: lazily pulled layers are fetched now.
	_, err = ref.ReadDir(ctx, gateway.ReadDirRequest{Path: "/"})
	return err
}
