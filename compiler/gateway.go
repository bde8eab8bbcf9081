package compiler

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/exporter/containerimage/exptypes"
	"github.com/moby/buildkit/frontend/dockerui"
	gwclient "github.com/moby/buildkit/frontend/gateway/client"
	gwpb "github.com/moby/buildkit/frontend/gateway/pb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// LLBCaps is the LLB capability set every definition is compiled against: all the caps of
// the buildkit module pinned in go.mod, which is also the buildkitd archc builds and runs.
// Pinning it (instead of asking a daemon) keeps compilation offline and its output stable.
var LLBCaps = pb.Caps.CapSet(pb.Caps.All())

// gatewayCaps are the frontend gateway caps the offline client claims; CapFrontendInputs
// is what makes dockerui take the main context from Inputs.
var gatewayCaps = gwpb.Caps.CapSet(gwpb.Caps.All())

// errOffline is returned by gateway calls that would need a daemon.
var errOffline = errors.New("archc compiles offline: this Dockerfile feature needs a running builder (file a bug with the Dockerfile)")

// input is one state served to dockerui as "input:NAME", with an optional image config.
// dep, when set, stands for the state: another build's result, turned into a state only
// when a compile needs it (not for a build read from the compile cache).
type input struct {
	state  llb.State
	dep    *depState
	config []byte
}

// def is the definition of the build dep stands for; nil for a local context.
func (in input) def() *llb.Definition {
	if in.dep == nil {
		return nil
	}
	return in.dep.def
}

// offlineGateway is the smallest gateway client that lets dockerfile2llb resolve named
// contexts without a daemon. With ConvertOpt.Client == nil dockerfile2llb silently ignores
// named contexts; dockerui.Client is the only door to them, and it wants a gateway client.
// Every context archc supplies (the main context, other components' results, local
// directories) is an input; docker-image:// contexts go through the meta resolver.
type offlineGateway struct {
	opts     map[string]string
	inputs   map[string]llb.State
	resolver *metaResolver
}

var _ gwclient.Client = (*offlineGateway)(nil)

// newOfflineGateway returns a gateway serving main as the build context and each entry of
// named as context NAME; images maps context names to docker-image references.
func newOfflineGateway(main llb.State, named map[string]input, images map[string]string, r *metaResolver) (*offlineGateway, error) {
	g := &offlineGateway{
		opts:     map[string]string{},
		inputs:   map[string]llb.State{dockerui.DefaultLocalNameContext: main},
		resolver: r,
	}
	for name, in := range named {
		key := "archc-" + name
		st := in.state
		if in.dep != nil {
			var err error
			if st, err = in.dep.state(); err != nil {
				return nil, fmt.Errorf("context %s: %w", name, err)
			}
		}
		g.inputs[key] = st
		g.opts["context:"+name] = "input:" + key
		if in.config != nil {
			md, err := json.Marshal(map[string][]byte{exptypes.ExporterImageConfigKey: in.config})
			if err != nil {
				return nil, fmt.Errorf("encode image config of context %s: %w", name, err)
			}
			g.opts["input-metadata:"+key] = string(md)
		}
	}
	for name, ref := range images {
		g.opts["context:"+name] = "docker-image://" + ref
	}
	return g, nil
}

func (g *offlineGateway) BuildOpts() gwclient.BuildOpts {
	return gwclient.BuildOpts{Opts: g.opts, LLBCaps: LLBCaps, Caps: gatewayCaps, Product: "archc"}
}

func (g *offlineGateway) Inputs(context.Context) (map[string]llb.State, error) {
	return g.inputs, nil
}

func (g *offlineGateway) ResolveImageConfig(ctx context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	return g.resolver.ResolveImageConfig(ctx, ref, opt)
}

func (g *offlineGateway) ResolveSourceMetadata(context.Context, *pb.SourceOp, sourceresolver.Opt) (*sourceresolver.MetaResponse, error) {
	return nil, errOffline
}

func (g *offlineGateway) Solve(context.Context, gwclient.SolveRequest) (*gwclient.Result, error) {
	return nil, errOffline
}

func (g *offlineGateway) NewContainer(context.Context, gwclient.NewContainerRequest) (gwclient.Container, error) {
	return nil, errOffline
}

func (g *offlineGateway) Warn(context.Context, digest.Digest, string, gwclient.WarnOpts) error {
	return nil
}
