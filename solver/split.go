package solver

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/errdefs"
	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// IndexPusher pushes an index of manifests already pushed by digest under every tag.
// annotations go on the index (a component's index: annotations); nil for none.
type IndexPusher func(ctx context.Context, tags []string, manifests []ocispecs.Descriptor, annotations map[string]string) (digest.Digest, error)

// solvePlatform solves one platform of a component whose platforms live on different
// builders. BuildKit cannot write one index across daemons, so each platform is solved on
// its own builder (registry outputs: pushed by digest, and archc pushes the index under
// every tag itself, see IndexPusher); local and oci outputs get one subdirectory /
// tarball per platform. It returns the pushed manifest (registry outputs only).
func (r *jobRun) solvePlatform(ctx context.Context, b *Builder, pb PlatformBuild) (ocispecs.Descriptor, error) {
	j, opts := r.job, r.opts
	ex, err := splitExports(j, r.epoch, pb.Platform)
	if err != nil {
		return ocispecs.Descriptor{}, err
	}
	opt, err := r.solveOpt(b, []PlatformBuild{pb}, ex)
	if err != nil {
		return ocispecs.Descriptor{}, err
	}
	var resp *client.SolveResponse
	err = retryPush(ctx, j, opts, func() error {
		var err error
		resp, err = b.Client.Build(ctx, opt, "archc", buildFuncAs([]PlatformBuild{pb}, opts.Bases.asIndex(j.Component)), r.t.follow(opts.Progress))
		return err
	})
	if err != nil {
		return ocispecs.Descriptor{}, &PlatformError{Platform: pb.Platform, Err: err}
	}
	if j.Output != spec.OutputRegistry {
		return ocispecs.Descriptor{}, nil
	}
	d, err := exportedDescriptor(resp.ExporterResponse, pb.Platform)
	if err != nil {
		return d, fmt.Errorf("component %s (%s): %w", j.Component, pb.Platform, err)
	}
	return d, nil
}

// splitExports is the export of one platform of a split job whose epoch is epoch
// (jobEpoch).
func splitExports(j *Job, epoch, platform string) ([]client.ExportEntry, error) {
	sub := *j
	dir := strings.ReplaceAll(platform, "/", "_")
	switch j.Output {
	case spec.OutputRegistry:
		ex, err := outputExports(&sub)
		if err != nil {
			return nil, err
		}
		ex = withEpoch(epoch, ex)
		// Pushed by digest under each tag's repository; the tags go on the index.
		var repos []string
		for _, tag := range j.Tags {
			named, err := reference.ParseNormalizedNamed(tag)
			if err != nil {
				return nil, fmt.Errorf("component %s: tag %q: %w", j.Component, tag, err)
			}
			if r := named.Name(); !slices.Contains(repos, r) {
				repos = append(repos, r)
			}
		}
		ex[0].Attrs["name"] = strings.Join(repos, ",")
		ex[0].Attrs["push-by-digest"] = "true"
		return ex, nil
	case spec.OutputLocal:
		sub.OutputPath = filepath.Join(j.OutputPath, dir)
	case spec.OutputOCI:
		sub.OutputPath = strings.TrimSuffix(j.OutputPath, ".tar") + "-" + dir + ".tar"
	}
	ex, err := outputExports(&sub)
	if err != nil {
		return nil, err
	}
	return withEpoch(epoch, ex), nil
}

func exportedDescriptor(resp map[string]string, platform string) (ocispecs.Descriptor, error) {
	var d ocispecs.Descriptor
	raw, ok := resp[exptypes.ExporterImageDescriptorKey]
	if !ok {
		return d, fmt.Errorf("exporter returned no descriptor")
	}
	dt, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return d, fmt.Errorf("decode exporter descriptor: %w", err)
	}
	if err := json.Unmarshal(dt, &d); err != nil {
		return d, fmt.Errorf("decode exporter descriptor: %w", err)
	}
	p, err := platforms.Parse(platform)
	if err != nil {
		return d, err
	}
	p = platforms.Normalize(p)
	d.Platform = &p
	d.Annotations = nil
	return d, nil
}

// NewIndexPusher pushes indexes with archc's own client (registry.PushHosts): the spec's
// registry config (http, insecure, CA), its proxy, credentials from the auth provider.
func NewIndexPusher(s *spec.Spec, creds func(host string) (string, string, error)) (IndexPusher, error) {
	hosts, err := registry.PushHosts(s, creds)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tags []string, manifests []ocispecs.Descriptor, annotations map[string]string) (digest.Digest, error) {
		idx := ocispecs.Index{MediaType: ocispecs.MediaTypeImageIndex, Manifests: manifests, Annotations: annotations}
		idx.SchemaVersion = 2
		dt, err := json.MarshalIndent(idx, "", "  ")
		if err != nil {
			return "", err
		}
		desc := ocispecs.Descriptor{MediaType: ocispecs.MediaTypeImageIndex, Digest: digest.FromBytes(dt), Size: int64(len(dt))}
		for _, tag := range tags {
			// A resolver per tag: one resolver's push tracker remembers the index as pushed
			// (keyed by digest, not by tag) and answers "already exists" for the next tag
			// without asking the registry, so only the first tag got it. A fresh one HEADs
			// this tag, and pushes unless the tag already names this index: a rerun
			// repairs a missing tag.
			// The manifest's PUT streams its body, so the transport cannot replay it: a
			// transient failure redoes this tag's push, by the same policy.
			if err := registry.Retry(ctx, nil, nil, func() error {
				return pushManifest(ctx, docker.NewResolver(docker.ResolverOptions{Hosts: hosts}), tag, desc, dt)
			}); err != nil {
				return "", fmt.Errorf("push %s: %w", tag, err)
			}
		}
		return desc.Digest, nil
	}, nil
}

// pushManifest pushes one manifest under tag; one that is there already is done.
func pushManifest(ctx context.Context, r remotes.Resolver, tag string, desc ocispecs.Descriptor, dt []byte) error {
	p, err := r.Pusher(ctx, tag)
	if err != nil {
		return err
	}
	w, err := p.Push(ctx, desc)
	if err != nil {
		if errdefs.IsAlreadyExists(err) || strings.Contains(err.Error(), "already exists") {
			return nil
		}
		return err
	}
	if _, err := w.Write(dt); err != nil {
		w.Close()
		return err
	}
	return w.Commit(ctx, desc.Size, desc.Digest)
}

// IndexReader reads the manifests an index lists, by the index's digest in ref's
// repository.
type IndexReader func(ctx context.Context, ref, dgst string) ([]ocispecs.Descriptor, error)

// maxIndexSize bounds an index read back from a registry.
const maxIndexSize = 4 << 20

// NewIndexReader reads indexes with archc's own client (registry.PushHosts), as
// NewIndexPusher pushes them.
func NewIndexReader(s *spec.Spec, creds func(host string) (string, string, error)) (IndexReader, error) {
	hosts, err := registry.PushHosts(s, creds)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ref, dgst string) ([]ocispecs.Descriptor, error) {
		named, err := reference.ParseNormalizedNamed(ref)
		if err != nil {
			return nil, err
		}
		r := docker.NewResolver(docker.ResolverOptions{Hosts: hosts})
		name, desc, err := r.Resolve(ctx, named.Name()+"@"+dgst)
		if err != nil {
			return nil, err
		}
		if desc.Size > maxIndexSize {
			return nil, fmt.Errorf("index %s is %d bytes, more than %d", dgst, desc.Size, maxIndexSize)
		}
		f, err := r.Fetcher(ctx, name)
		if err != nil {
			return nil, err
		}
		rc, err := f.Fetch(ctx, desc)
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		dt, err := io.ReadAll(io.LimitReader(rc, maxIndexSize))
		if err != nil {
			return nil, err
		}
		if digest.FromBytes(dt).String() != dgst {
			return nil, fmt.Errorf("index %s: the registry sent other content", dgst)
		}
		var idx ocispecs.Index
		if err := json.Unmarshal(dt, &idx); err != nil {
			return nil, fmt.Errorf("decode index %s: %w", dgst, err)
		}
		return idx.Manifests, nil
	}, nil
}
