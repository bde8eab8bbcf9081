package compiler

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/archc-dev/archc/spec"
)

// Selection is the part of a spec a plan builds: the builds of Components (all when
// empty) for Platforms (each component's own when empty), plus every build they use (named
// contexts, depends_on) for the same platform. It is an input of the plan, like its build
// platform: a plan file carries it and apply FILE selects the same builds again.
type Selection struct {
	// Components are component names, sorted, without duplicates.
	Components []string `json:"components,omitempty"`
	// Platforms are normalized platforms, sorted, without duplicates.
	Platforms []string `json:"platforms,omitempty"`
}

// All reports whether the selection is the whole spec.
func (sel Selection) All() bool { return len(sel.Components) == 0 && len(sel.Platforms) == 0 }

// String is the selection as a reviewer reads it: "components web, api; platforms linux/arm64".
func (sel Selection) String() string {
	var parts []string
	if len(sel.Components) > 0 {
		parts = append(parts, "components "+strings.Join(sel.Components, ", "))
	}
	if len(sel.Platforms) > 0 {
		parts = append(parts, "platforms "+strings.Join(sel.Platforms, ", "))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, "; ")
}

// NewSelection normalizes what the user asked for (names and platforms in any order, with
// repeats; platforms in any form containerd parses) and checks it against s: every name
// must be a component, every platform one that the named components (or, with no name, at
// least one component) declare. The errors say what the spec has instead.
func NewSelection(s *spec.Spec, components, platforms []string) (Selection, error) {
	var sel Selection
	for _, name := range components {
		if !slices.Contains(sel.Components, name) {
			sel.Components = append(sel.Components, name)
		}
	}
	for _, p := range platforms {
		if n := spec.NormalizePlatform(p); !slices.Contains(sel.Platforms, n) {
			sel.Platforms = append(sel.Platforms, n)
		}
	}
	slices.Sort(sel.Components)
	slices.Sort(sel.Platforms)
	return sel, sel.check(s)
}

// check is NewSelection's validation, also run on a selection read from a plan file.
func (sel Selection) check(s *spec.Spec) error {
	known := map[string]*spec.Component{}
	for i := range s.Components {
		known[s.Components[i].Name] = &s.Components[i]
	}
	for _, name := range sel.Components {
		if known[name] == nil {
			return &UnknownComponentError{Name: name, Suggestion: spec.Suggest(name, known), Known: slices.Sorted(maps.Keys(known))}
		}
	}
	for _, p := range sel.Platforms {
		if len(sel.Components) == 0 {
			if !slices.ContainsFunc(s.Components, func(c spec.Component) bool { return declares(&c, p) }) {
				return &UndeclaredPlatformError{Platform: p, Declared: allPlatforms(s)}
			}
			continue
		}
		for _, name := range sel.Components {
			if c := known[name]; !declares(c, p) {
				return &UndeclaredPlatformError{Platform: p, Component: name, Declared: c.Platforms}
			}
		}
	}
	return nil
}

// declares reports whether c is built for platform p (normalized).
func declares(c *spec.Component, p string) bool {
	return slices.ContainsFunc(c.Platforms, func(cp string) bool { return spec.NormalizePlatform(cp) == p })
}

// allPlatforms are the platforms any component is built for, sorted.
func allPlatforms(s *spec.Spec) []string {
	set := map[string]bool{}
	for _, c := range s.Components {
		for _, p := range c.Platforms {
			set[spec.NormalizePlatform(p)] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}

// selects reports whether build b is one the user asked for (before dependencies).
func (sel Selection) selects(b *Build) bool {
	return (len(sel.Components) == 0 || slices.Contains(sel.Components, b.Component)) &&
		(len(sel.Platforms) == 0 || slices.Contains(sel.Platforms, b.Platform))
}

// Select keeps the builds sel asks for and every build they depend on (Build.DependsOn,
// transitively: a dependency is built for the platform its user needs); the others are
// listed in NotSelected. The spec checks sel first (a plan file's selection may name a
// component the spec has lost). The whole spec was compiled, so its bases were pinned and
// checked against the lock: a selection never leaves the lock incomplete.
func (p *Plan) Select(s *spec.Spec, sel Selection) error {
	if err := sel.check(s); err != nil {
		return err
	}
	p.Selection = sel
	if sel.All() {
		return nil
	}
	keep := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if keep[id] {
			return
		}
		keep[id] = true
		if b := p.Build(id); b != nil {
			for _, dep := range b.DependsOn {
				visit(dep)
			}
		}
	}
	for i := range p.Builds {
		if sel.selects(&p.Builds[i]) {
			visit(p.Builds[i].ID)
		}
	}
	var builds []Build
	p.NotSelected = nil
	for _, b := range p.Builds {
		if keep[b.ID] {
			builds = append(builds, b)
		} else {
			p.NotSelected = append(p.NotSelected, b.ID)
		}
	}
	p.Builds = builds
	return nil
}

// UnknownComponentError is a selected name that is no component of the spec.
type UnknownComponentError struct {
	Name string
	// Suggestion is the closest component name, or "".
	Suggestion string
	// Known are the spec's component names, sorted.
	Known []string
}

func (e *UnknownComponentError) Error() string {
	msg := fmt.Sprintf("select component %q: the spec has no such component", e.Name)
	if e.Suggestion != "" {
		msg += fmt.Sprintf(". Did you mean %q?", e.Suggestion)
	}
	return msg
}

// Hint names the components there are.
func (e *UnknownComponentError) Hint() string {
	if len(e.Known) == 0 {
		return "the spec declares no component"
	}
	return "the spec's components: " + strings.Join(e.Known, ", ")
}

// UndeclaredPlatformError is a selected platform that the selected component (or, with
// none named, every component) is not built for.
type UndeclaredPlatformError struct {
	Platform string
	// Component is the component that lacks it; "" when no component has it.
	Component string
	// Declared are the platforms the component (or the spec's components) are built for.
	Declared []string
}

func (e *UndeclaredPlatformError) Error() string {
	if e.Component == "" {
		return fmt.Sprintf("select platform %s: no component is built for it (the spec's platforms: %s)", e.Platform, strings.Join(e.Declared, ", "))
	}
	return fmt.Sprintf("select platform %s: component %s is not built for it (its platforms: %s)", e.Platform, e.Component, strings.Join(e.Declared, ", "))
}

// Hint says how to get the platform built.
func (e *UndeclaredPlatformError) Hint() string {
	if e.Component == "" {
		return "select one of the spec's platforms, or add " + e.Platform + " to a component's platforms"
	}
	return "select one of " + e.Component + "'s platforms, or add " + e.Platform + " to its platforms in the spec"
}
