package solver

import (
	"slices"

	"github.com/moby/buildkit/client/llb"

	"github.com/archc-dev/archc/compiler"
)

// solveEntitlements are the entitlements a solve of builds is granted
// (client.SolveOpt.AllowedEntitlements): those their definitions' steps need
// (compiler.Entitlements), sorted. Each was checked against the component's allow when the
// plan was compiled (a plan file is compiled again before apply), so a solve gets what its
// component allows and its steps use, never more. The daemon must allow them too: the
// local builder's buildkitd.toml lists every entitlement the spec allows.
func solveEntitlements(builds []PlatformBuild) ([]string, error) {
	var out []string
	for _, b := range builds {
		if b.Def == nil {
			continue
		}
		var def llb.Definition
		def.FromPB(b.Def)
		ents, err := compiler.Entitlements(&def)
		if err != nil {
			return nil, err
		}
		for _, e := range ents {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
