package compiler

import (
	"fmt"
	"net"
	"slices"
	"sort"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/docker/go-units"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// gatewayNoCacheKey is dockerui's frontend option for ignored caches ("no-cache"): "" for
// every stage, or a comma-separated list of stage names.
const gatewayNoCacheKey = "no-cache"

// runSettings returns comp's RUN settings (extra_hosts, network, shm_size, ulimits) as
// dockerui.Config fields, parsed as dockerui parses the frontend attributes buildx's bake
// sends for them; they become ExecOp fields, so llb_digest covers them. Its cache controls
// (no_cache, no_cache_filter) go into the gateway's options (gwOpts) instead: dockerui
// reads them only from there (its ignoreCache is unexported). They become op metadata
// (IgnoreCache), outside llb_digest, so b records them (Build.NoCache, NoCacheFilter).
func runSettings(comp *spec.Component, b *Build, gwOpts map[string]string) (dockerui.Config, error) {
	var cfg dockerui.Config
	hosts, err := extraHosts(comp.ExtraHosts)
	if err != nil {
		return cfg, err
	}
	cfg.ExtraHosts = hosts
	if cfg.NetworkMode, err = networkMode(comp.Network); err != nil {
		return cfg, err
	}
	if comp.ShmSize != "" {
		n, err := units.RAMInBytes(comp.ShmSize)
		if err != nil || n <= 0 {
			return cfg, fmt.Errorf("shm_size %q: want a positive size such as \"128m\"", comp.ShmSize)
		}
		cfg.ShmSize = n
	}
	for _, u := range comp.Ulimits {
		ul, err := units.ParseUlimit(u)
		if err != nil {
			return cfg, fmt.Errorf("ulimits: %w", err)
		}
		cfg.Ulimits = append(cfg.Ulimits, &pb.Ulimit{Name: ul.Name, Soft: ul.Soft, Hard: ul.Hard})
	}
	if stages := noCacheStages(comp); stages != nil {
		gwOpts[gatewayNoCacheKey] = strings.Join(stages, ",")
		b.NoCache = len(stages) == 0
		if len(stages) > 0 {
			b.NoCacheFilter = stages
		}
	}
	return cfg, nil
}

// extraHosts are extra_hosts as /etc/hosts entries, sorted by host so the LLB does not
// depend on map order. Hosts are lower-cased, as dockerui does with bake's add-hosts.
func extraHosts(m map[string]string) ([]llb.HostIP, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make([]llb.HostIP, 0, len(m))
	for host, addr := range m {
		ip := net.ParseIP(addr)
		if ip == nil {
			return nil, fmt.Errorf("extra_hosts: %q for %s is not an IP address", addr, host)
		}
		out = append(out, llb.HostIP{Host: strings.ToLower(host), IP: ip})
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Host < out[k].Host })
	return out, nil
}

// networkMode is RUN steps' default network: "" and "default" are BuildKit's sandbox.
func networkMode(n string) (pb.NetMode, error) {
	switch n {
	case "", "default":
		return llb.NetModeSandbox, nil
	case "none":
		return llb.NetModeNone, nil
	case "host":
		return llb.NetModeHost, nil
	}
	return 0, fmt.Errorf("network %q: want \"default\", \"none\" or \"host\"", n)
}

// noCacheStages are the stages built without the cache: nil for none, empty for all
// (no_cache), else the no_cache_filter names. no_cache wins when both are set: it asks for
// more (buildx would let the filter override it, which narrows what the user asked for).
func noCacheStages(comp *spec.Component) []string {
	switch {
	case comp.NoCache:
		return []string{}
	case len(comp.NoCacheFilter) > 0:
		return sortedIDs(comp.NoCacheFilter)
	}
	return nil
}

// noCacheText is the plan's line for a build's cache controls ("" for none).
func noCacheText(b *Build) string {
	switch {
	case b.NoCache:
		return "all stages"
	case len(b.NoCacheFilter) > 0:
		return "stages " + strings.Join(b.NoCacheFilter, ", ")
	}
	return ""
}

// WithoutCache returns a copy of p whose definitions have every exec and file op marked
// IgnoreCache (`archc apply --no-cache`): each step runs again, for this run only.
//
// Why a rewrite of the op metadata: apply solves compiled definitions, so dockerui's
// no-cache frontend option would reach nothing, and compiling again with it would change
// the plan being applied. Metadata is outside the ops' digests: llb_digest, the source
// map and the plan file stay as they were. Source ops are left alone: bases come from
// archc's content cache by digest and local contexts by content, so reading them again
// proves nothing.
func WithoutCache(p *Plan) (*Plan, error) {
	out := *p
	out.Builds = slices.Clone(p.Builds)
	for i := range out.Builds {
		b := &out.Builds[i]
		if b.Definition == nil {
			continue
		}
		def, err := ignoreCache(b.Definition)
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", b.ID, err)
		}
		b.Definition = def
	}
	return &out, nil
}

// ignoreCache is a copy of def with IgnoreCache in the metadata of every exec and file op.
func ignoreCache(def *llb.Definition) (*llb.Definition, error) {
	out := &llb.Definition{Def: def.Def, Source: def.Source, Metadata: make(map[digest.Digest]llb.OpMetadata, len(def.Def))}
	for k, md := range def.Metadata {
		out.Metadata[k] = md
	}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			return nil, fmt.Errorf("decode LLB op: %w", err)
		}
		if op.GetExec() == nil && op.GetFile() == nil {
			continue
		}
		k := digest.FromBytes(dt)
		md := cloneMetadata(out.Metadata[k])
		md.IgnoreCache = true
		out.Metadata[k] = md
	}
	return out, nil
}
