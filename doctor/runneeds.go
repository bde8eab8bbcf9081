package doctor

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/solver"
	"github.com/containerd/platforms"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// runNeeds are the platforms each component's build for a target runs steps on besides
// the target, by apply's own rule (solver.PlanRunNeeds): doctor compiles the spec as
// apply would, but offline, with stand-in base images, because only where each stage's
// steps run matters here, not what the bases contain. A `FROM --platform=$BUILDPLATFORM`
// stage without RUN therefore needs nothing, as in apply.
func (e *env) runNeeds(ctx context.Context) ([]solver.RunNeed, error) {
	plan, err := compiler.Compile(ctx, e.s, standInImages{}, compiler.WithBuildPlatform(e.o.BuildPlatform))
	if err != nil {
		return nil, err
	}
	return solver.PlanRunNeeds(plan), nil
}

// standInImages answers every base with a one-layer image of the platform asked for: the
// compiler takes a stage's platform from its base's config, and nothing else of the base
// changes where steps run.
type standInImages struct{}

func (standInImages) Image(_ context.Context, ref string, p ocispecs.Platform) (compiler.Image, error) {
	// One layer: an image without layers is taken for scratch, whose steps run on the target.
	layer := digest.FromString("layer " + ref)
	config, err := json.Marshal(ocispecs.Image{Platform: p, RootFS: ocispecs.RootFS{Type: "layers", DiffIDs: []digest.Digest{layer}}})
	if err != nil {
		return compiler.Image{}, fmt.Errorf("stand-in config for %s: %w", ref, err)
	}
	return compiler.Image{Digest: digest.FromString(ref + " " + platforms.Format(p)), Config: config}, nil
}
