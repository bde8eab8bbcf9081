package compiler

import (
	"strings"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
)

// WithBaseStore returns a copy of def whose pinned base images (docker-image sources with
// a digest) are read from the OCI layout store storeID of the solve's session instead of a
// registry: BuildKit's oci-layout source, as buildx uses for oci-layout:// contexts. The
// solver serves archc's content cache as that store, so the daemon never contacts a
// registry for a base.
//
// Like WithProxy, this happens right before the solve: the plan's definition keeps its
// docker-image sources, so LLBDigest does not depend on where content comes from. The
// rewrite is done here rather than by a daemon-side source policy, because BuildKit looks
// up a failing step's Dockerfile line by the digest it runs under, and a policy changes
// those digests behind the source map's back.
func WithBaseStore(def *llb.Definition, storeID string) (*llb.Definition, error) {
	return rewriteOps(def, func(op *pb.Op) apicaps.CapID {
		src := op.GetSource()
		if src == nil || !strings.HasPrefix(src.Identifier, DockerImageScheme) || !strings.Contains(src.Identifier, "@") {
			return ""
		}
		src.Identifier = OCILayoutScheme + strings.TrimPrefix(src.Identifier, DockerImageScheme)
		if src.Attrs == nil {
			src.Attrs = map[string]string{}
		}
		src.Attrs[pb.AttrOCILayoutStoreID] = storeID
		return pb.CapSourceOCILayout
	})
}

// Source schemes of base images in LLB.
const (
	DockerImageScheme = "docker-image://"
	OCILayoutScheme   = "oci-layout://"
)
