package solver

import (
	"context"
	"fmt"

	"github.com/containerd/containerd/v2/core/content"
	"github.com/containerd/containerd/v2/plugins/content/local"
	"github.com/moby/buildkit/client"
	spb "github.com/moby/buildkit/sourcepolicy/pb"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
)

// BaseStoreID names archc's content cache among the OCI stores of a solve's session.
const BaseStoreID = "archc-bases"

// Bases serves a plan's pinned base images to buildkitd from archc's content cache, so that
// the daemon never contacts a registry for a base: no daemon-side token fetch, no upstream
// fallback behind a mirrors_only registry, and one download (archc's, with its retry
// policy) for every builder and every later run.
//
// The jobs' definitions read each pinned base through BuildKit's OCI layout source
// (compiler.WithBaseStore); every solve's session carries the cache, read as a containerd
// content store, under BaseStoreID. A source policy denies every docker-image source
// left, so nothing unpinned slips past archc to a registry.
type Bases struct {
	store content.Store
	// Content are the bases to download before the builds start.
	Content []registry.BaseContent
	// supply are the plan's attestations and annotations, and the pinned SBOM scanners
	// (served from the store like the bases).
	supply *supplyChain
}

// NewBases lists the plan's pinned bases and serves them from cache.
func NewBases(p *compiler.Plan, cache *registry.Cache) (*Bases, error) {
	store, err := local.NewStore(cache.Dir())
	if err != nil {
		return nil, fmt.Errorf("content cache as an OCI store: %w", err)
	}
	b := &Bases{store: store, supply: newSupplyChain(p)}
	for _, build := range p.Builds {
		for _, base := range build.Bases {
			b.Content = append(b.Content, registry.BaseContent{Ref: base.Ref, Manifest: base.Digest})
		}
	}
	return b, nil
}

// onlyStoredBases denies any image the daemon would pull from a registry itself.
var onlyStoredBases = &spb.Policy{Rules: []*spb.Rule{{
	Action:   spb.PolicyAction_DENY,
	Selector: &spb.Selector{Identifier: compiler.DockerImageScheme + "*", MatchType: spb.MatchType_WILDCARD},
}}}

// solveOpt adds the store and the policy to a solve's options.
func (b *Bases) solveOpt(opt client.SolveOpt) client.SolveOpt {
	if b == nil {
		return opt
	}
	opt.OCIStores = map[string]content.Store{BaseStoreID: b.store}
	opt.SourcePolicy = onlyStoredBases
	return opt
}

// BaseFetcher downloads base content into the cache (registry.Resolver).
type BaseFetcher interface {
	FetchBases(ctx context.Context, bases []registry.BaseContent) error
}
