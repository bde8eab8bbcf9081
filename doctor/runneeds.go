package doctor

import (
	"context"
	"time"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/solver"
)

// discoverTimeout bounds the offline compile that finds the spec's bases: it reads the
// Dockerfiles and hashes the local contexts, no network.
const discoverTimeout = time.Minute

// discover finds the spec's base images by the compiler's own rule (compiler.DiscoverBases:
// an offline compile with stand-in bases), so doctor and apply never disagree on them.
func (e *env) discover() {
	ctx, cancel := context.WithTimeout(context.Background(), discoverTimeout)
	defer cancel()
	e.bases, e.offline, e.basesErr = compiler.DiscoverBases(ctx, e.s, compiler.WithBuildPlatform(e.o.BuildPlatform))
}

// runNeeds are the platforms each component's build for a target runs steps on besides
// the target, by apply's own rule (solver.PlanRunNeeds), from the offline compile that
// found the bases: only where each stage's steps run matters here, not what the bases
// contain. A `FROM --platform=$BUILDPLATFORM` stage without RUN therefore needs nothing,
// as in apply.
func (e *env) runNeeds(context.Context) ([]solver.RunNeed, error) {
	if e.basesErr != nil {
		return nil, e.basesErr
	}
	return solver.PlanRunNeeds(e.offline), nil
}
