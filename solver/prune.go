package solver

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/moby/buildkit/client"

	"github.com/archc-dev/archc/spec"
)

// cacheAdmin is the part of *client.Client that reads and frees a builder's cache: the
// seam for builder du and prune, outside Daemon because builds never need it.
type cacheAdmin interface {
	DiskUsage(ctx context.Context, opts ...client.DiskUsageOption) ([]*client.UsageInfo, error)
	Prune(ctx context.Context, ch chan client.UsageInfo, opts ...client.PruneOption) error
}

// CacheUsage is one builder's answer to du or prune.
type CacheUsage struct {
	Builder string
	// Records and Size count the cache records (du) or the records freed (prune).
	Records int
	Size    int64
	// Reclaimable is the size of the records not in use and not shared (du only).
	Reclaimable int64
	// Err is why the builder could not answer; ErrNotRunning for a local builder that is
	// not running (du and prune never start one).
	Err error
}

// PruneOptions say what prune frees; the zero value frees what BuildKit's own default
// prune does (unused records, keeping nothing in particular).
type PruneOptions struct {
	// All frees internal and frontend records as well (buildctl prune --all).
	All bool
	// KeepDuration keeps records used within this long.
	KeepDuration time.Duration
}

// DiskUsage asks each of the spec's builders (the running local ones and the remote ones)
// how much cache it holds.
func DiskUsage(ctx context.Context, s *spec.Spec, timeout time.Duration) []CacheUsage {
	return eachAdmin(ctx, s, timeout, diskUsage)
}

// diskUsage sums one builder's cache records.
func diskUsage(ctx context.Context, a cacheAdmin, u *CacheUsage) error {
	recs, err := a.DiskUsage(ctx)
	if err != nil {
		return fmt.Errorf("disk usage: %w", err)
	}
	for _, r := range recs {
		u.Records++
		u.Size += r.Size
		if !r.InUse && !r.Shared {
			u.Reclaimable += r.Size
		}
	}
	return nil
}

// Prune frees each builder's unused cache records, as buildctl prune does.
func Prune(ctx context.Context, s *spec.Spec, timeout time.Duration, o PruneOptions) []CacheUsage {
	return eachAdmin(ctx, s, timeout, prune(o))
}

// prune frees one builder's records as o says, counting what the daemon reports freed.
func prune(o PruneOptions) func(context.Context, cacheAdmin, *CacheUsage) error {
	var opts []client.PruneOption
	if o.All {
		opts = append(opts, client.PruneAll)
	}
	if o.KeepDuration > 0 {
		opts = append(opts, client.WithKeepOpt(o.KeepDuration, 0, 0, 0))
	}
	return func(ctx context.Context, a cacheAdmin, u *CacheUsage) error {
		ch := make(chan client.UsageInfo)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for r := range ch {
				u.Records++
				u.Size += r.Size
			}
		}()
		err := a.Prune(ctx, ch, opts...)
		close(ch)
		<-done
		if err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		return nil
	}
}

// eachAdmin runs f on each of the spec's builders in order (local first, as Statuses),
// connecting without starting anything.
func eachAdmin(ctx context.Context, s *spec.Spec, timeout time.Duration, f func(context.Context, cacheAdmin, *CacheUsage) error) []CacheUsage {
	var out []CacheUsage
	run := func(name string, connect func() (*Builder, error)) {
		u := CacheUsage{Builder: name}
		b, err := connect()
		if err == nil {
			defer b.Close()
			a, ok := b.Client.(cacheAdmin)
			if !ok {
				err = errors.New("this connection cannot manage the cache")
			} else {
				err = f(ctx, a, &u)
			}
		}
		u.Err = err
		out = append(out, u)
	}
	for _, lb := range LocalBuilders(s) {
		run(lb.Name, func() (*Builder, error) { return ConnectLocal(ctx, lb.Name, timeout) })
	}
	for _, sb := range s.Builders {
		if sb.Address != "" {
			run(sb.Name, func() (*Builder, error) { return ConnectRemote(ctx, sb, timeout) })
		}
	}
	return out
}
