package compiler

import (
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
)

// configOnlyDefinition is the definition of a build whose final stage is FROM scratch with
// only metadata (ENV, LABEL, CMD…): no op at all, so llb.State.Marshal gives an empty
// definition. BuildKit's own frontend solves that to a nil ref and exports the image config
// with no layers; archc does the same (see ConfigOnly). The plan keeps one terminal op
// with no input — the LLB spelling of "the result is scratch" — so every build has an
// llb_digest and plan files keep their one shape: the digest is that of the empty op
// (sha256 of nothing), the same for every config-only build; the image config digest says
// which one it is.
func configOnlyDefinition() (*llb.Definition, error) {
	dt, err := proto.MarshalOptions{Deterministic: true}.Marshal(&pb.Op{})
	if err != nil {
		return nil, err
	}
	return &llb.Definition{Def: [][]byte{dt}, Metadata: map[digest.Digest]llb.OpMetadata{}}, nil
}

// ConfigOnly reports whether def builds no filesystem: it is empty, or its terminal op has
// no input (configOnlyDefinition). The solver then sends no definition and returns a nil
// ref with the image config, as BuildKit's frontend does; BuildKit itself rejects a
// terminal op without input.
func ConfigOnly(def *pb.Definition) bool {
	if def == nil || len(def.Def) == 0 {
		return true
	}
	var op pb.Op
	if err := op.UnmarshalVT(def.Def[len(def.Def)-1]); err != nil {
		return false
	}
	return len(op.Inputs) == 0 && op.Op == nil
}
