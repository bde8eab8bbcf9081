package compiler

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/entitlements"
	digest "github.com/opencontainers/go-digest"
)

// ErrNotAllowed is wrapped by the compile's error when a build needs an entitlement its
// component does not allow.
var ErrNotAllowed = errors.New("a build step needs an entitlement its component does not allow")

// execEntitlements are the entitlements one exec op needs: network.host for a step on the
// host's network (RUN --network=host, network = "host"), security.insecure for a
// privileged one (RUN --security=insecure).
func execEntitlements(exec *pb.ExecOp) []string {
	var out []string
	if exec.Network == pb.NetMode_HOST {
		out = append(out, string(entitlements.EntitlementNetworkHost))
	}
	if exec.Security == pb.SecurityMode_INSECURE {
		out = append(out, string(entitlements.EntitlementSecurityInsecure))
	}
	return out
}

// opsEntitlements are the entitlements the steps of a decoded definition need, sorted; nil
// for none. They are the build's Entitlements: apply grants a solve exactly these (each one
// checked against the component's allow here), so a component's solves get no more than
// its steps use.
func opsEntitlements(ops *defOps) []string {
	set := map[string]bool{}
	ops.execs(func(_ digest.Digest, exec *pb.ExecOp) {
		for _, e := range execEntitlements(exec) {
			set[e] = true
		}
	})
	if len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for e := range set {
		out = append(out, e)
	}
	sort.Strings(out)
	return out
}

// checkEntitlements returns the entitlements def needs, or an error wrapping ErrNotAllowed
// that names every step needing one comp does not allow (Dockerfile file and line, from
// the definition's source map) and the allow entry to add. BuildKit itself would refuse
// the solve at apply time with "network.host is not allowed", naming no step.
func checkEntitlements(comp *spec.Component, dockerfile string, ops *defOps) ([]string, error) {
	def := ops.def
	fix := func(e string) string {
		return fmt.Sprintf("add allow = [%q] to component %s", e, comp.Name)
	}
	if comp.Network == "host" && !slices.Contains(comp.Allow, string(entitlements.EntitlementNetworkHost)) {
		// Every RUN would be named below; the attribute is the one cause.
		return nil, fmt.Errorf("%w: network = \"host\" needs entitlement network.host: %s", ErrNotAllowed, fix(string(entitlements.EntitlementNetworkHost)))
	}
	var problems []string
	seen := map[string]bool{}
	ops.execs(func(dgst digest.Digest, exec *pb.ExecOp) {
		for _, e := range execEntitlements(exec) {
			if slices.Contains(comp.Allow, e) {
				continue
			}
			p := fmt.Sprintf("%s needs entitlement %s: %s", stepLocation(def, dgst, dockerfile), e, fix(e))
			if !seen[p] {
				seen[p] = true
				problems = append(problems, p)
			}
		}
	})
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w:\n  %s", ErrNotAllowed, strings.Join(problems, "\n  "))
	}
	return opsEntitlements(ops), nil
}
