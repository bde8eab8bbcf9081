package compiler

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// Images is everything the compiler needs to know about base images: one pinned image per
// reference and platform. The registry-backed implementation answers from the lock and the
// on-disk content cache (see LockImages); tests use a fake.
type Images interface {
	// Image returns ref pinned for platform. ref is a normalized reference with a tag or
	// digest, e.g. "docker.io/library/alpine:3.20". Implementations must be safe for
	// concurrent use.
	Image(ctx context.Context, ref string, platform ocispecs.Platform) (Image, error)
}

// Image is a base image pinned for one platform.
type Image struct {
	// Digest is the platform's manifest digest; FROM is rewritten to name@Digest.
	Digest digest.Digest
	// Config is the image config JSON (ENV, WORKDIR, USER... of the base).
	Config []byte
	// Host is the registry host or mirror that served it, host[:port] only, never
	// credentials.
	Host string
	// Resolved is true when the lock had no pin for ref and platform and this run resolved
	// it; the plan reports such pins.
	Resolved bool
}

// metaResolver adapts Images to buildkit's llb.ImageMetaResolver for one build and records
// every base it handed out.
type metaResolver struct {
	images Images

	mu    sync.Mutex
	bases map[string]Base // by ref + platform
	// asked are the questions asked of images and their answers (for the compile cache).
	asked map[string]imageAnswer
}

func newMetaResolver(images Images) *metaResolver {
	return &metaResolver{images: images, bases: map[string]Base{}, asked: map[string]imageAnswer{}}
}

// ResolveImageConfig implements llb.ImageMetaResolver. It returns the reference without
// its tag, so dockerfile2llb writes FROM as name@digest.
func (r *metaResolver) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	if opt.ImageOpt == nil || opt.ImageOpt.Platform == nil {
		return "", "", nil, fmt.Errorf("resolve %s: no platform given (archc pins bases per platform)", ref)
	}
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", "", nil, fmt.Errorf("resolve %s: %w", ref, err)
	}
	named = reference.TagNameOnly(named)
	p := platforms.Normalize(*opt.ImageOpt.Platform)
	img, err := r.images.Image(ctx, named.String(), p)
	if err != nil {
		return "", "", nil, fmt.Errorf("resolve %s for %s: %w", named, platforms.Format(p), err)
	}
	pinned, err := reference.WithDigest(reference.TrimNamed(named), img.Digest)
	if err != nil {
		return "", "", nil, fmt.Errorf("pin %s to %s: %w", named, img.Digest, err)
	}
	b := Base{Ref: named.String(), Digest: img.Digest, Platform: platforms.Format(p), Host: img.Host, Resolved: img.Resolved}
	r.mu.Lock()
	r.bases[b.Ref+" "+b.Platform] = b
	r.asked[b.Ref+" "+b.Platform] = imageAnswer{Ref: b.Ref, Platform: p, Answer: answerDigest(img)}
	r.mu.Unlock()
	return pinned.String(), img.Digest, img.Config, nil
}

// list returns the recorded bases sorted by ref, then platform.
func (r *metaResolver) list() []Base {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Base, 0, len(r.bases))
	for _, b := range r.bases {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Ref != out[j].Ref {
			return out[i].Ref < out[j].Ref
		}
		return out[i].Platform < out[j].Platform
	})
	return out
}

// answers are the questions asked of the images and their answers, sorted like list.
func (r *metaResolver) answers() []imageAnswer {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]string, 0, len(r.asked))
	for k := range r.asked {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]imageAnswer, 0, len(keys))
	for _, k := range keys {
		out = append(out, r.asked[k])
	}
	return out
}
