package compiler

import (
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// defOps is a compiled definition with its ops decoded, once: the checks that read a
// build's ops (mounts, entitlements, reproducibility, named contexts) share it, where each
// used to decode and hash every op again (a fifth of a cold compile's LLB work).
type defOps struct {
	def *llb.Definition
	ops []defOp // in the definition's order
}

// defOp is one op of a definition and its digest (the key of its source location and
// metadata).
type defOp struct {
	dgst digest.Digest
	op   *pb.Op
}

// decodeOps decodes every op of def.
func decodeOps(def *llb.Definition) (*defOps, error) {
	d := &defOps{def: def, ops: make([]defOp, 0, len(def.Def))}
	for _, dt := range def.Def {
		op := &pb.Op{}
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("decode LLB op: %w", err)
		}
		d.ops = append(d.ops, defOp{dgst: digest.FromBytes(dt), op: op})
	}
	return d, nil
}

// execs calls fn with every exec op and its digest.
func (d *defOps) execs(fn func(digest.Digest, *pb.ExecOp)) {
	for _, o := range d.ops {
		if exec := o.op.GetExec(); exec != nil {
			fn(o.dgst, exec)
		}
	}
}
