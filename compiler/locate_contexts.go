package compiler

import (
	"errors"
	"fmt"
	"strings"

	"github.com/archc-dev/archc/spec"
)

// checkContextKeys finds the typo in a named context's key: `contexts = { apii =
// component.api }` against `COPY --from=api`. The Dockerfile's "api" then matches no
// stage and no context, and dockerfile2llb takes it for the image docker.io/library/api:latest,
// which plan would try to pull. A base written as a bare name whose closest contexts key
// (spec.Suggest) is not itself asked for is reported, naming both. Every such problem comes
// back joined.
func checkContextKeys(s *spec.Spec, plan *Plan) error {
	var errs []error
	seen := map[string]bool{}
	byComponent := map[string][]*Build{}
	for i := range plan.Builds {
		b := &plan.Builds[i]
		byComponent[b.Component] = append(byComponent[b.Component], b)
	}
	for i := range s.Components {
		comp := &s.Components[i]
		keys := map[string]spec.NamedContext{}
		for _, nc := range comp.Contexts {
			keys[nc.Name] = nc
		}
		if len(keys) == 0 {
			continue
		}
		for _, b := range byComponent[comp.Name] {
			for _, base := range b.Bases {
				name, ok := bareImageName(base.Ref)
				if !ok {
					continue
				}
				key := spec.Suggest(name, keys)
				if _, used := keys[name]; used || key == "" || seen[comp.Name+" "+key] {
					continue
				}
				seen[comp.Name+" "+key] = true
				what := ""
				if c := keys[key].Component; c != "" {
					what = " (component." + c + ")"
				}
				errs = append(errs, fmt.Errorf("component %q: contexts key %q%s matches no FROM or --from of %s, which asks for %q: did you mean contexts = { %s = ... }? (otherwise %q is pulled as the image %s)",
					comp.Name, key, what, b.Dockerfile, name, name, name, base.Ref))
			}
		}
	}
	return errors.Join(errs...)
}

// bareImageName is the name a Dockerfile wrote for ref when it wrote only a name, with no
// registry, namespace or tag: "docker.io/library/api:latest" was "api".
func bareImageName(ref string) (string, bool) {
	rest, ok := strings.CutPrefix(ref, "docker.io/library/")
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, ":latest")
	return name, ok && !strings.ContainsAny(name, "/:@")
}
