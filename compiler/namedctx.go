package compiler

import (
	"maps"
	"slices"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
)

// usedNamedContexts is Build.NamedContexts: each of comp's named contexts that the
// compiled definition def actually takes content from, by name, with where it comes from
// ("component.NAME", "docker-image://REF", or the directory relative to dir). It is read
// from the LLB rather than from the Dockerfile's text so that a context named like a stage
// nobody builds, or one shadowed by a stage, is not claimed: a component's result shows as
// its definition's result vertex, a directory as its local source, an image as the source
// dockerui names "[context NAME] REF". nil when none is used.
func usedNamedContexts(dir string, comp *spec.Component, named map[string]input, contexts []Context, ops *defOps) map[string]string {
	def := ops.def
	if len(comp.Contexts) == 0 {
		return nil
	}
	seen := map[string]bool{} // op digests, local source names and context image names
	for _, o := range ops.ops {
		dgst, op := o.dgst, o.op
		seen["op "+dgst.String()] = true
		if src := op.GetSource(); src != nil && strings.HasPrefix(src.Identifier, "local://") {
			seen["local "+strings.TrimPrefix(src.Identifier, "local://")] = true
		}
		if md, ok := def.Metadata[dgst]; ok {
			if name, ok := contextOfCustomName(md.Description["llb.customname"]); ok {
				seen["image "+name] = true
			}
		}
	}
	locals := map[string]string{}
	for _, x := range contexts {
		locals[x.Name] = x.LocalName
	}
	out := map[string]string{}
	for _, nc := range comp.Contexts {
		switch {
		case nc.Component != "":
			if resultUsed(named[nc.Name].def(), seen) {
				out[nc.Name] = "component." + nc.Component
			}
		case nc.Path != "":
			if seen["local "+locals[nc.Name]] {
				out[nc.Name] = relPath(dir, nc.Path)
			}
		case nc.Image != "":
			if seen["image "+nc.Name] {
				out[nc.Name] = "docker-image://" + nc.Image
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// resultUsed says whether the result of the definition dep (its terminal op's input) is an
// op of the definition whose ops are in seen. A result with no op (a config-only build)
// leaves no trace in the LLB: it counts as used, as the Dockerfile may well take its config.
func resultUsed(dep *llb.Definition, seen map[string]bool) bool {
	if dep == nil || len(dep.Def) == 0 {
		return true
	}
	var term pb.Op
	if err := term.UnmarshalVT(dep.Def[len(dep.Def)-1]); err != nil || len(term.Inputs) == 0 {
		return true
	}
	return seen["op "+term.Inputs[0].Digest]
}

// contextOfCustomName is NAME from the name dockerui gives a docker-image:// named
// context's source, "[context NAME] REF".
func contextOfCustomName(s string) (string, bool) {
	rest, ok := strings.CutPrefix(s, "[context ")
	if !ok {
		return "", false
	}
	name, _, ok := strings.Cut(rest, "] ")
	return name, ok
}

// namedContextLines are the views' lines for Build.NamedContexts, sorted by name:
// "base ← component.base (named context)".
func namedContextLines(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, name := range slices.Sorted(maps.Keys(m)) {
		out = append(out, name+" ← "+m[name]+" (named context)")
	}
	return out
}

// contextsOfDependency names the named contexts through which b uses the build depID (a
// dependency's ID starts with its component's name), joined by ", "; "" for a plain
// depends_on.
func contextsOfDependency(b *Build, depID string) string {
	comp, _, _ := strings.Cut(depID, "/")
	var names []string
	for _, name := range slices.Sorted(maps.Keys(b.NamedContexts)) {
		if b.NamedContexts[name] == "component."+comp {
			names = append(names, name)
		}
	}
	return strings.Join(names, ", ")
}
