package spec

import "slices"

// BuilderCandidates are the builders the spec sends one platform of a component to, most
// preferred first; apply chooses among them by load and cache affinity and skips those that
// are down (solver.Schedule). It is what the spec alone says, so plan can show it without
// a daemon:
//   - a component with builder = "NAME": that builder only;
//   - else the builders whose platforms list the platform, in spec order,
//   - then the builders that list no platforms (they run what their workers report).
//
// nil means the spec has no builder block: archc's default local builder. At apply time a
// builder that only emulates the platform is a fallback when none of these is up.
func (s *Spec) BuilderCandidates(component, platform string) []string {
	return s.CandidatesFor(s.Component(component), platform)
}

// CandidatesFor is BuilderCandidates for a component the caller holds (nil: none), without
// looking it up by name: the compiler asks once per build.
func (s *Spec) CandidatesFor(c *Component, platform string) []string {
	if c != nil && c.Builder != "" {
		return []string{c.Builder}
	}
	if len(s.Builders) == 0 {
		return nil
	}
	want := NormalizePlatform(platform)
	var declared, open []string
	for _, b := range s.Builders {
		switch {
		case len(b.Platforms) == 0:
			open = append(open, b.Name)
		case slices.ContainsFunc(b.Platforms, func(p string) bool { return NormalizePlatform(p) == want }):
			declared = append(declared, b.Name)
		}
	}
	return append(declared, open...)
}

// Builder returns the builder block with the given name, or nil.
func (s *Spec) Builder(name string) *Builder {
	for i := range s.Builders {
		if s.Builders[i].Name == name {
			return &s.Builders[i]
		}
	}
	return nil
}
