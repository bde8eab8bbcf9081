package solver

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/archc-dev/archc/spec"
)

// Candidates are the builders of up that may run one platform of a component, most
// preferred first, by the spec's routing (spec.BuilderCandidates) narrowed to what answered:
//   - a pinned component (builder = "NAME"): that builder, when it is up and runs the
//     platform; never another;
//   - else the builders that declare the platform or whose first worker is it (native),
//     in spec order; when none is up, the builders that declare nothing and emulate it;
//   - else (fallback = true) builders that declare other platforms but whose workers
//     emulate this one: used only when nothing better is up, with a warning.
//
// A builder whose workers are unknown (none listed) is trusted to run what it declares.
// A spec without builder blocks routes everything to whichever up builder runs it (the
// local one).
func Candidates(s *spec.Spec, up []*Builder, component, platform string) (cands []*Builder, fallback bool) {
	p := spec.NormalizePlatform(platform)
	names := s.BuilderCandidates(component, p)
	if len(s.Builders) == 0 {
		for _, b := range up {
			if runs(b, p) {
				names = append(names, b.Name)
			}
		}
	}
	var native, emulated []*Builder
	for _, n := range names {
		b := findBuilder(up, n)
		if b == nil || !runs(b, p) {
			continue
		}
		if declares(b, p) || len(b.Workers) == 0 || spec.FormatPlatform(b.Workers[0]) == p {
			native = append(native, b)
		} else {
			emulated = append(emulated, b)
		}
	}
	switch {
	case len(native) > 0:
		return native, false
	case len(emulated) > 0:
		return emulated, false
	}
	if c := s.Component(component); c != nil && c.Builder != "" {
		return nil, false
	}
	for _, b := range up {
		if emulates(b, p) {
			cands = append(cands, b)
		}
	}
	return cands, len(cands) > 0
}

// emulates reports whether b is a fallback for p: its block routes other platforms to it,
// and its workers (by emulation) run p too.
func emulates(b *Builder, p string) bool {
	return len(b.Declared) > 0 && !declares(b, p) && len(b.Workers) > 0 && b.Serves(p)
}

// runs reports whether b can run p: its workers serve it, or they are unknown.
func runs(b *Builder, p string) bool { return len(b.Workers) == 0 || b.Serves(p) }

func declares(b *Builder, p string) bool {
	return slices.ContainsFunc(b.Declared, func(d string) bool { return spec.NormalizePlatform(d) == p })
}

func findBuilder(bs []*Builder, name string) *Builder {
	for _, b := range bs {
		if b.Name == name {
			return b
		}
	}
	return nil
}

// Availability decides, before anything is built, whether a run can go ahead with the
// builders that answered: down maps a builder's name to why it could not be reached, need
// maps a component to its platforms. It returns one warning per skipped builder (naming
// where its work goes), per platform that falls back to emulation and per builder that
// declares a platform its workers cannot run; and an error when a required builder is
// down, a pinned component's builder is down, or a needed platform has no builder left
// (an *EmulationError naming the platforms, the components and the fixes). Warnings carry
// no "warning: " prefix and are not escaped: the caller prints them. apply prints these;
// doctor reads the same decision as data (Assess).
func Availability(s *spec.Spec, up []*Builder, down map[string]error, need map[string][]string) (warnings []string, err error) {
	o, err := Assess(s, up, down, need)
	return o.Warnings(), err
}

// Outlook is Availability's decision as data: the builders a run goes on without, and
// the other warnings.
type Outlook struct {
	// Skipped are the down builders that are not required, in spec order.
	Skipped []Skipped
	// Others are the warnings that name no down builder: platforms that fall back to
	// emulation, then builders that list a platform their workers cannot run.
	Others []string
}

// Warnings are the warnings Availability returns: one per skipped builder, then Others.
func (o Outlook) Warnings() []string {
	var out []string
	for _, k := range o.Skipped {
		out = append(out, k.Warning())
	}
	return append(out, o.Others...)
}

// Skip is the skipped builder named name, if it is one.
func (o Outlook) Skip(name string) (Skipped, bool) {
	for _, k := range o.Skipped {
		if k.Name == name {
			return k, true
		}
	}
	return Skipped{}, false
}

// Skipped is a builder that is down and that a run goes on without.
type Skipped struct {
	Name, Address string
	// Why it could not be reached, without the "builder NAME: " its error begins with.
	Why string
	// GoesTo are the builders that take its work; none when it has no work in this run.
	GoesTo []string
}

// Where says where its work goes.
func (k Skipped) Where() string {
	if len(k.GoesTo) == 0 {
		return "it has no work in this run"
	}
	return "its work goes to " + strings.Join(k.GoesTo, ", ")
}

// Warning is the warning apply prints for it.
func (k Skipped) Warning() string {
	return fmt.Sprintf("builder %q (%s) is down: %s; %s", k.Name, k.Address, k.Why, k.Where())
}

// Assess is Availability with its warnings as data; the error is Availability's.
func Assess(s *spec.Spec, up []*Builder, down map[string]error, need map[string][]string) (Outlook, error) {
	var errs []error
	for _, sb := range s.Builders {
		if cause, ok := down[sb.Name]; ok && sb.Required {
			errs = append(errs, &downError{name: sb.Name, text: fmt.Sprintf("builder %q (%s) is required (required = true) and is down: %s",
				sb.Name, sb.Address, downWhy(sb.Name, cause)), err: cause})
		}
	}
	goesTo := map[string][]string{}   // down builder → builders taking its work
	fallback := map[string][]string{} // platform → "component on builder"
	missing := map[string][]string{}  // platform → components
	var missingOrder []string
	for _, comp := range slices.Sorted(maps.Keys(need)) {
		for _, p := range need[comp] {
			p = spec.NormalizePlatform(p)
			cands, fb := Candidates(s, up, comp, p)
			if len(cands) == 0 {
				if pin := pinnedDown(s, comp, down); pin != nil {
					errs = append(errs, pin)
					continue
				}
				if _, ok := missing[p]; !ok {
					missingOrder = append(missingOrder, p)
				}
				missing[p] = append(missing[p], comp)
				continue
			}
			if fb {
				fallback[p] = append(fallback[p], comp)
			}
			for _, n := range s.BuilderCandidates(comp, p) {
				if _, ok := down[n]; ok {
					for _, c := range cands {
						if !slices.Contains(goesTo[n], c.Name) {
							goesTo[n] = append(goesTo[n], c.Name)
						}
					}
				}
			}
		}
	}
	o := Outlook{Skipped: skipped(s, down, goesTo)}
	o.Others = append(fallbackWarnings(up, fallback), declaredWarnings(up, need)...)
	if len(missingOrder) > 0 {
		errs = append(errs, missingError(missingOrder, missing, up, down))
	}
	return o, errors.Join(errs...)
}

// downWhy is why builder name is down: its error without the "builder NAME: " prefix.
func downWhy(name string, cause error) string {
	return strings.TrimPrefix(fmt.Sprint(cause), fmt.Sprintf("builder %q: ", name))
}

// pinnedDown is the error of a component pinned to a builder that is down, or nil.
func pinnedDown(s *spec.Spec, comp string, down map[string]error) error {
	c := s.Component(comp)
	if c == nil || c.Builder == "" {
		return nil
	}
	if cause, ok := down[c.Builder]; ok {
		return fmt.Errorf("component %s is pinned to builder %q (builder = %q), which is down: %w", comp, c.Builder, c.Builder, cause)
	}
	return nil
}

// skipped are the down builders that are not required, why, and where their work goes,
// in spec order.
func skipped(s *spec.Spec, down map[string]error, goesTo map[string][]string) []Skipped {
	var out []Skipped
	for _, sb := range s.Builders {
		cause, ok := down[sb.Name]
		if !ok || sb.Required {
			continue
		}
		out = append(out, Skipped{Name: sb.Name, Address: sb.Address, Why: downWhy(sb.Name, cause), GoesTo: goesTo[sb.Name]})
	}
	return out
}

func fallbackWarnings(up []*Builder, fallback map[string][]string) []string {
	var out []string
	for _, p := range slices.Sorted(maps.Keys(fallback)) {
		var on []string
		for _, b := range up {
			if emulates(b, p) {
				on = append(on, b.Name)
			}
		}
		out = append(out, fmt.Sprintf("no builder for %s is up: %s run by emulation on %s", p, strings.Join(fallback[p], ", "), strings.Join(on, ", ")))
	}
	return out
}

// declaredWarnings names builders whose block lists a needed platform their workers do
// not run: the spec's routing is skipped for them.
func declaredWarnings(up []*Builder, need map[string][]string) []string {
	var out []string
	for _, b := range up {
		for _, d := range b.Declared {
			p := spec.NormalizePlatform(d)
			if runs(b, p) || !needed(need, p) {
				continue
			}
			out = append(out, fmt.Sprintf("builder %q lists %s but its workers run only %s: it gets no %s builds", b.Name, p, strings.Join(b.WorkerPlatforms(), ", "), p))
		}
	}
	return out
}

func needed(need map[string][]string, p string) bool {
	for _, ps := range need {
		if slices.ContainsFunc(ps, func(q string) bool { return spec.NormalizePlatform(q) == p }) {
			return true
		}
	}
	return false
}

// missingError is the *EmulationError of platforms no up builder runs, naming the
// components that need them and the builders that are down.
func missingError(order []string, missing map[string][]string, up []*Builder, down map[string]error) *EmulationError {
	e := newEmulationError(order, up)
	var sb strings.Builder
	fmt.Fprintf(&sb, "no builder can run %s", strings.Join(order, ", "))
	for _, p := range order {
		fmt.Fprintf(&sb, "\n  %s is needed by %s", p, strings.Join(missing[p], ", "))
	}
	writeWorkers(&sb, up)
	for _, n := range slices.Sorted(maps.Keys(down)) {
		fmt.Fprintf(&sb, "\n  builder %q is down: %v", n, down[n])
	}
	e.Cause = sb.String()
	return e
}

// downError says a builder is down in its own words, keeping the connection error (and
// its hint) in the chain.
type downError struct {
	name, text string
	err        error
}

func (e *downError) Error() string { return e.text }
func (e *downError) Unwrap() error { return e.err }
