package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/core/images"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sync/errgroup"
)

// BaseContent is one pinned base image for one platform whose whole content a build
// reads: the platform manifest, its config and its layers.
type BaseContent struct {
	// Ref is the reference the pin came from ("docker.io/library/busybox:1.36"): its
	// registry decides the hosts, its repository the paths.
	Ref string
	// Manifest is the platform manifest's digest.
	Manifest digest.Digest
}

// FetchBases downloads the content of every base into the cache, concurrently (bounded by
// WithConcurrency), through the same hosts, failover and per-request retries as
// resolution: WithTimeout bounds the retries of each base, while a large layer that keeps
// making progress is never cut off by it. A layer cut off mid-way is resumed from where it stopped (an HTTP Range
// request), on the next attempt or the next host, even in a later run; every blob is
// verified against its digest before it enters the cache. Content already cached costs no
// request. Every base that could not be fetched is reported.
func (r *Resolver) FetchBases(ctx context.Context, bases []BaseContent) error {
	bases = sortBases(slices.Clone(bases))
	errs := make([]error, len(bases))
	var wg sync.WaitGroup
	for i, b := range bases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case r.sem <- struct{}{}:
			case <-ctx.Done():
				errs[i] = ctx.Err()
				return
			}
			defer func() { <-r.sem }()
			if err := r.fetchBase(ctx, b); err != nil {
				errs[i] = fmt.Errorf("download %s: %w", b.Manifest, err)
			}
		}()
	}
	wg.Wait()
	return joinErrors(errs)
}

// BaseBlobs lists the blobs of a cached platform manifest: the manifest itself, its config
// and its layers.
func (c *Cache) BaseBlobs(manifest digest.Digest) ([]ocispec.Descriptor, error) {
	data, err := c.Get(manifest)
	if err != nil {
		return nil, err
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, &malformedError{msg: fmt.Sprintf("%s: not a manifest: %v", manifest, err)}
	}
	if m.Config.Digest == "" {
		return nil, &malformedError{msg: fmt.Sprintf("%s: manifest has no config", manifest)}
	}
	out := []ocispec.Descriptor{{Digest: manifest, Size: int64(len(data)), MediaType: sniffMediaType(data)}, m.Config}
	return append(out, m.Layers...), nil
}

func (r *Resolver) fetchBase(ctx context.Context, b BaseContent) error {
	named, err := reference.ParseNormalizedNamed(b.Ref)
	if err != nil {
		return err
	}
	ref := reference.TrimNamed(named).String() + "@" + b.Manifest.String()
	if r.cache.hasAll(b.Manifest) {
		return nil
	}
	stream := ctx // large layers: bounded by their own retries, not by the deadline
	return r.onHosts(ctx, ref, r.opts.timeout, func(ctx context.Context, h *hostEntry) error {
		res := docker.NewResolver(docker.ResolverOptions{
			Hosts: func(string) ([]docker.RegistryHost, error) { return []docker.RegistryHost{h.host}, nil },
		})
		f := &fetcher{res: res, ref: ref, cache: r.cache}
		if _, err := f.fetch(ctx, ocispec.Descriptor{Digest: b.Manifest, MediaType: ocispec.MediaTypeImageManifest}); err != nil {
			return err
		}
		blobs, err := r.cache.BaseBlobs(b.Manifest)
		if err != nil {
			return err
		}
		// Layers do not cancel each other: what finished stays, the rest resumes.
		var g errgroup.Group
		g.SetLimit(4)
		for _, d := range blobs[1:] {
			if r.cache.Has(d.Digest) || images.IsNonDistributable(d.MediaType) {
				continue
			}
			g.Go(func() error {
				if d.Size <= maxContent {
					_, err := f.fetch(ctx, d)
					return err
				}
				return r.cache.ingest(stream, d, func(off int64) (io.ReadCloser, error) { return f.open(stream, d, off) })
			})
		}
		return g.Wait()
	})
}

// hasAll reports whether a platform manifest and everything it names are cached.
func (c *Cache) hasAll(manifest digest.Digest) bool {
	blobs, err := c.BaseBlobs(manifest)
	if err != nil {
		return false
	}
	for _, d := range blobs[1:] {
		if !c.Has(d.Digest) && !images.IsNonDistributable(d.MediaType) {
			return false
		}
	}
	return true
}

// open starts reading desc at offset: containerd's reader asks for the rest with a Range
// request (and reconnects on its own when a body ends early).
func (f *fetcher) open(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	rf, err := f.fetcherFor(ctx)
	if err != nil {
		return nil, err
	}
	rc, err := rf.Fetch(ctx, desc)
	if err != nil {
		return nil, err
	}
	if offset == 0 {
		return rc, nil
	}
	if s, ok := rc.(io.Seeker); ok {
		if _, err := s.Seek(offset, io.SeekStart); err == nil {
			return rc, nil
		}
	}
	if _, err := io.CopyN(io.Discard, rc, offset); err != nil {
		rc.Close()
		return nil, &transportError{err: err}
	}
	return rc, nil
}

// ingest streams a large blob into the cache through a file under partial/, locked
// so that two archc processes never write it at once. A download that fails keeps what it
// got; the next call (another attempt, another host, a later run) resumes at its end.
// Nothing enters blobs/ unverified.
func (c *Cache) ingest(ctx context.Context, desc ocispec.Descriptor, open func(offset int64) (io.ReadCloser, error)) error {
	if err := desc.Digest.Validate(); err != nil {
		return &malformedError{msg: fmt.Sprintf("blob digest %q: %v", desc.Digest, err)}
	}
	dir := filepath.Join(c.dir, "partial")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("content cache: %w", err)
	}
	partial := filepath.Join(dir, desc.Digest.Algorithm().String()+"-"+desc.Digest.Encoded())
	f, err := os.OpenFile(partial, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("content cache: %w", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("content cache: lock %s: %w", desc.Digest, err)
	}
	if c.Has(desc.Digest) {
		return nil // another process finished it while this one waited
	}
	off, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return fmt.Errorf("content cache: %w", err)
	}
	if off > desc.Size {
		if err := f.Truncate(0); err != nil {
			return fmt.Errorf("content cache: %w", err)
		}
		off, _ = f.Seek(0, io.SeekStart)
	}
	for round := 0; off < desc.Size; round++ {
		rc, err := open(off)
		if err != nil {
			return err // its requests were retried already (retryTransport)
		}
		n, err := io.Copy(f, io.LimitReader(rc, desc.Size-off))
		rc.Close()
		off += n
		if err == nil && off < desc.Size {
			err = io.ErrUnexpectedEOF
		}
		if err == nil {
			break
		}
		// The body broke off: resume from here, as the retry policy would retry a request.
		o := classifyNet(err)
		if ctx.Err() != nil || !o.class.Retryable() || round+1 >= retryAttempts {
			return &transportError{err: err}
		}
		select {
		case <-time.After(Backoff(250*time.Millisecond, 5*time.Second, round)):
		case <-ctx.Done():
			return &transportError{err: err}
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("content cache: %w", err)
	}
	v := desc.Digest.Verifier()
	if _, err := io.Copy(v, f); err != nil {
		return fmt.Errorf("content cache: %w", err)
	}
	if !v.Verified() {
		_ = f.Truncate(0)
		return &malformedError{msg: fmt.Sprintf("content of %s does not match its digest (%d bytes)", desc.Digest, off)}
	}
	p := c.path(desc.Digest)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("content cache: %w", err)
	}
	if err := os.Rename(partial, p); err != nil {
		return fmt.Errorf("content cache: %w", err)
	}
	return nil
}

// sortBases orders bases by ref, then manifest, and drops repeats.
func sortBases(bases []BaseContent) []BaseContent {
	sort.Slice(bases, func(i, j int) bool {
		if bases[i].Ref != bases[j].Ref {
			return bases[i].Ref < bases[j].Ref
		}
		return bases[i].Manifest < bases[j].Manifest
	})
	out := bases[:0]
	for i, b := range bases {
		if i == 0 || b != bases[i-1] {
			out = append(out, b)
		}
	}
	return out
}
