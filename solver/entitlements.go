package solver

import "slices"

// solveEntitlements are the entitlements a solve of builds is granted
// (client.SolveOpt.AllowedEntitlements): those their steps need (PlatformBuild.Entitlements,
// from the plan), merged and sorted. Each was checked against the component's allow when
// the plan was compiled (a plan file is compiled again before apply), so a solve gets what
// its component allows and its steps use, never more. The daemon must allow them too: the
// local builder's buildkitd.toml lists every entitlement the spec allows.
func solveEntitlements(builds []PlatformBuild) []string {
	var out []string
	for _, b := range builds {
		for _, e := range b.Entitlements {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out
}
