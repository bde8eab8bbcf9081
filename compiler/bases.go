package compiler

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// DiscoverBases compiles s offline with stand-in base images and returns every base image
// the builds ask for (deduplicated across components, sorted by Ref) and the plan of that
// compile. The plan's structure (stages, platforms, dependencies) is that of the real
// plan; its digests are not. There is no other Dockerfile reader: FROM, COPY --from,
// RUN --mount from=, ARG expansion, targets and named contexts all mean what BuildKit's
// Dockerfile frontend makes of them, errors included.
func DiscoverBases(ctx context.Context, s *spec.Spec, opts ...Option) ([]registry.ImageRequest, *Plan, error) {
	plan, err := Compile(ctx, s, StandInImages{}, opts...)
	if err != nil {
		return nil, nil, err
	}
	return baseRequests(plan), plan, nil
}

// baseRequests lists the bases plan's builds use, one request per reference.
func baseRequests(plan *Plan) []registry.ImageRequest {
	type sets struct{ platforms, components map[string]bool }
	byRef := map[string]sets{}
	for _, b := range plan.Builds {
		for _, base := range b.Bases {
			r, ok := byRef[base.Ref]
			if !ok {
				r = sets{map[string]bool{}, map[string]bool{}}
				byRef[base.Ref] = r
			}
			r.platforms[base.Platform] = true
			r.components[b.Component] = true
		}
	}
	out := make([]registry.ImageRequest, 0, len(byRef))
	for _, ref := range slices.Sorted(maps.Keys(byRef)) {
		out = append(out, registry.ImageRequest{Ref: ref,
			Platforms:  slices.Sorted(maps.Keys(byRef[ref].platforms)),
			Components: slices.Sorted(maps.Keys(byRef[ref].components))})
	}
	return out
}

// StandInImages answers every base with a one-layer image of the platform asked for. It
// is for compiles whose structure matters and not what the bases contain (discovering
// the bases, where steps run): the compiler takes a stage's platform from its base's
// config, and nothing else of the base changes that structure.
type StandInImages struct{}

// Image implements Images.
func (StandInImages) Image(_ context.Context, ref string, p ocispecs.Platform) (Image, error) {
	// One layer: an image without layers is taken for scratch, whose steps run on the target.
	layer := digest.FromString("layer " + ref)
	config, err := json.Marshal(ocispecs.Image{Platform: p, RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer}}})
	if err != nil {
		return Image{}, fmt.Errorf("stand-in config for %s: %w", ref, err)
	}
	return Image{Digest: digest.FromString(ref + " " + platforms.Format(p)), Config: config}, nil
}

// pinnedOrStandIn answers from the lock and the content cache, and with a stand-in (noting
// the miss) where they cannot: one compile then both discovers the bases and, when the
// lock is complete and the cache warm, is the plan.
type pinnedOrStandIn struct {
	pinned *LockImages

	mu     sync.Mutex
	missed bool
}

func (p *pinnedOrStandIn) Image(ctx context.Context, ref string, plat ocispecs.Platform) (Image, error) {
	im := p.pinned.lock.Find(ref)
	if im != nil {
		if pi := im.Platform(spec.FormatPlatform(plat)); pi != nil && p.pinned.cache.Has(pi.Config) {
			return p.pinned.Image(ctx, ref, plat)
		}
	}
	p.mu.Lock()
	p.missed = true
	p.mu.Unlock()
	return StandInImages{}.Image(ctx, ref, plat)
}
