package compiler

import (
	"fmt"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
)

// WithProxy returns a copy of def in which every exec op carries the spec's proxy as its
// ProxyEnv (the same field llb.WithProxy fills), or def itself when p is nil.
//
// Why not at compile time: dockerfile2llb takes the proxy only from build args, and a
// Dockerfile that declares `ARG HTTP_PROXY` would then copy the value into the RUN's plain
// env — into the LLB, the cache key and the plan file. So archc compiles without a proxy
// (that definition is what LLBDigest identifies and the plan file stores), and the solver
// calls WithProxy right before it solves. BuildKit leaves ProxyEnv out of the exec cache
// key, so a proxy change rebuilds nothing.
func WithProxy(def *llb.Definition, p *spec.Proxy) (*llb.Definition, error) {
	if p == nil || (p.HTTPProxy == "" && p.HTTPSProxy == "" && p.AllProxy == "" && len(p.NoProxy) == 0) {
		return def, nil
	}
	pe := &pb.ProxyEnv{
		HttpProxy:  p.HTTPProxy,
		HttpsProxy: p.HTTPSProxy,
		AllProxy:   p.AllProxy,
		NoProxy:    strings.Join(p.NoProxy, ","),
	}
	return rewriteOps(def, func(op *pb.Op) apicaps.CapID {
		e := op.GetExec()
		if e == nil || e.Meta == nil {
			return ""
		}
		e.Meta.ProxyEnv = proto.Clone(pe).(*pb.ProxyEnv)
		return pb.CapExecMetaProxy
	})
}

// redactProxy is the plan's proxy: p.Redacted (spec.RedactURL, the one mask every view, log
// and error uses) without the source range, so a plan does not depend on where the spec
// is; nil when p is.
func redactProxy(p *spec.Proxy) *spec.Proxy {
	r := p.Redacted()
	if r != nil {
		r.Range = hcl.Range{}
	}
	return r
}

// rewriteOps applies fn to every op of def and re-digests the graph: ops are in
// dependency order, so each op's inputs are renamed before the op itself is marshalled.
// Metadata and source locations follow their ops (BuildKit finds a failing step's
// Dockerfile line by the digest it runs under). fn returns the capability its change needs,
// or "" when it left the op alone.
func rewriteOps(def *llb.Definition, fn func(*pb.Op) apicaps.CapID) (*llb.Definition, error) {
	out := &llb.Definition{
		Def:      make([][]byte, 0, len(def.Def)),
		Metadata: make(map[digest.Digest]llb.OpMetadata, len(def.Metadata)),
	}
	renamed := map[string]string{}
	for _, dt := range def.Def {
		old := digest.FromBytes(dt)
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("decode LLB op %s: %w", old, err)
		}
		changed := false
		for _, in := range op.Inputs {
			if n, ok := renamed[in.Digest]; ok {
				in.Digest = n
				changed = true
			}
		}
		capNeeded := fn(&op)
		changed = changed || capNeeded != ""
		ndt := dt
		if changed {
			var err error
			if ndt, err = (proto.MarshalOptions{Deterministic: true}).Marshal(&op); err != nil {
				return nil, fmt.Errorf("encode LLB op %s: %w", old, err)
			}
		}
		nd := digest.FromBytes(ndt)
		if nd != old {
			renamed[string(old)] = string(nd)
		}
		out.Def = append(out.Def, ndt)
		if md, ok := def.Metadata[old]; ok {
			if capNeeded != "" {
				md = cloneMetadata(md)
				md.Caps[capNeeded] = true
			}
			out.Metadata[nd] = md
		}
	}
	if def.Source != nil {
		src := proto.Clone(def.Source).(*pb.Source)
		locs := make(map[string]*pb.Locations, len(src.Locations))
		for k, v := range src.Locations {
			if n, ok := renamed[k]; ok {
				k = n
			}
			locs[k] = v
		}
		src.Locations = locs
		out.Source = src
	}
	return out, nil
}

func cloneMetadata(md llb.OpMetadata) llb.OpMetadata {
	c := llb.NewOpMetadata(md.ToPB())
	if c.Caps == nil {
		c.Caps = map[apicaps.CapID]bool{}
	}
	return c
}
