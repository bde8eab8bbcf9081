package compiler

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"github.com/archc-dev/archc/spec"
)

// FormatVersion is the JSON plan's format_version. Only additive changes are made without
// bumping it.
const FormatVersion = "1"

// JSONPlan is the machine-readable plan (`archc plan --format json`), documented in README.
type JSONPlan struct {
	FormatVersion string      `json:"format_version"`
	BuildPlatform string      `json:"build_platform"`
	SpecDigest    string      `json:"spec_digest"`
	Builds        []JSONBuild `json:"builds"`
	Proxy         *spec.Proxy `json:"proxy,omitempty"`
	Warnings      []string    `json:"warnings"`
	// Selection is Plan.Selection; absent when the plan builds the whole spec.
	Selection *Selection `json:"selection,omitempty"`
	// NotSelected are the builds the selection leaves out (Plan.NotSelected); absent for none.
	NotSelected []string `json:"not_selected,omitempty"`
	// Variables are the spec's variables as the plan was made with them (WithVariables),
	// sensitive ones masked; absent for none, and in plan files.
	Variables []PlanVariable `json:"variables,omitempty"`
}

// PlanVariable is a spec variable as a plan shows it: never a sensitive value.
type PlanVariable struct {
	Name string `json:"name"`
	// Value is spec.Variable.Value: "(sensitive)" for a sensitive variable, URL
	// credentials masked otherwise.
	Value string `json:"value"`
	// Source is "default", "env" (ARCHC_VAR_NAME) or "flag" (--var).
	Source    string `json:"source"`
	Sensitive bool   `json:"sensitive,omitempty"`
}

// WithVariables returns v showing the spec's variables in the plan's header (text and
// JSON; other views ignore them). They are not part of the Plan value: whatever a variable
// decides already shows in the builds, and a plan file must not carry values that may be
// secrets (the plan file keeps what it needs in PlanFile.Vars, unprinted).
func WithVariables(v View, vars []spec.Variable) View {
	x, ok := v.(interface{ withVariables([]PlanVariable) View })
	if !ok || len(vars) == 0 {
		return v
	}
	out := make([]PlanVariable, 0, len(vars))
	for _, sv := range vars {
		out = append(out, PlanVariable{Name: sv.Name, Value: sv.Value, Source: sv.Source, Sensitive: sv.Sensitive})
	}
	return x.withVariables(out)
}

// JSONBuild is one component × platform.
type JSONBuild struct {
	ID         string            `json:"id"`
	Component  string            `json:"component"`
	Platform   string            `json:"platform"`
	Dockerfile string            `json:"dockerfile"`
	Target     string            `json:"target,omitempty"`
	Args       map[string]string `json:"args,omitempty"`
	Labels     map[string]string `json:"labels,omitempty"`
	LLBDigest  string            `json:"llb_digest"`
	// ConfigDigest is "" in plans saved before it existed.
	ConfigDigest string        `json:"config_digest,omitempty"`
	Ops          int           `json:"ops"`
	Bases        []JSONBase    `json:"bases"`
	Contexts     []JSONContext `json:"contexts"`
	DependsOn    []string      `json:"depends_on"`
	// NamedContexts are Build.NamedContexts (sensitive values scrubbed); absent for none.
	NamedContexts map[string]string `json:"named_contexts,omitempty"`
	Outputs       []JSONOutput      `json:"outputs"`
	// CacheFrom and CacheTo are Build.CacheFrom and CacheTo; absent for none.
	CacheFrom []string `json:"cache_from,omitempty"`
	CacheTo   []string `json:"cache_to,omitempty"`
	// NoCache and NoCacheFilter are Build.NoCache and NoCacheFilter; absent when unset.
	NoCache       bool     `json:"no_cache,omitempty"`
	NoCacheFilter []string `json:"no_cache_filter,omitempty"`
	// Entitlements are Build.Entitlements; absent for none.
	Entitlements []string `json:"entitlements,omitempty"`
	// Builders are the builders the build may go to (Build.Builders); absent when the
	// spec has no builder block (archc's local builder).
	Builders []string `json:"builders,omitempty"`
	// Secrets map the ids of the secrets served to the build to their source kind, "env"
	// or "file" (Build.Secrets); SSH are the ssh ids (Build.SSH). Absent for none. Never a
	// value.
	Secrets map[string]string `json:"secrets,omitempty"`
	SSH     []string          `json:"ssh,omitempty"`
	// Attest is Build.Attest; absent when no attestation is on.
	Attest *JSONAttest `json:"attest,omitempty"`
	// Annotations are Build.Annotations (sensitive values scrubbed); absent for none.
	Annotations map[string]string `json:"annotations,omitempty"`
	// SourceDateEpoch is Build.SourceDateEpoch (decimal seconds, as SOURCE_DATE_EPOCH);
	// absent without one. Unreproducible is Build.Unreproducible; absent for none.
	SourceDateEpoch string   `json:"source_date_epoch,omitempty"`
	Unreproducible  []string `json:"unreproducible,omitempty"`
	// ExpectedUpToDate is set when apply expects the build to be up to date, from this
	// machine's records of what archc pushed (Expectation; local state, never in a plan
	// file); absent otherwise.
	ExpectedUpToDate *JSONExpectation `json:"expected_up_to_date,omitempty"`
}

// JSONExpectation is an Expectation.
type JSONExpectation struct {
	Digest string   `json:"digest"`
	Hosts  []string `json:"hosts"`
}

// JSONBase is one pinned base image.
type JSONBase struct {
	Ref      string `json:"ref"`
	Digest   string `json:"digest"`
	Platform string `json:"platform"`
	Host     string `json:"host"`
	Resolved bool   `json:"resolved,omitempty"`
}

// JSONContext is one local directory sent to the builder.
type JSONContext struct {
	Name       string `json:"name"`
	Path       string `json:"path"`
	Digest     string `json:"digest"`
	IgnoreFile string `json:"ignore_file,omitempty"`
}

// JSONOutput is one output of a build.
type JSONOutput struct {
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	Path string `json:"path,omitempty"`
}

// JSON returns the plan's JSON form, with scrub hiding sensitive values (nil: none).
// Slices are never nil, so they encode as [].
func (p *Plan) JSON(scrub Scrub) *JSONPlan {
	out := &JSONPlan{
		FormatVersion: FormatVersion,
		BuildPlatform: p.BuildPlatform,
		SpecDigest:    p.SpecDigest.String(),
		Builds:        make([]JSONBuild, 0, len(p.Builds)),
		Warnings:      make([]string, 0, len(p.Warnings)),
	}
	if p.Proxy != nil {
		px := *p.Proxy
		out.Proxy = &px
	}
	for _, w := range MergeWarnings(p.Warnings) {
		out.Warnings = append(out.Warnings, scrub.shown(w))
	}
	if !p.Selection.All() {
		sel := Selection{Components: slices.Clone(p.Selection.Components), Platforms: slices.Clone(p.Selection.Platforms)}
		out.Selection = &sel
	}
	out.NotSelected = slices.Clone(p.NotSelected)
	for _, b := range p.Builds {
		jb := JSONBuild{
			ID: b.ID, Component: b.Component, Platform: b.Platform, Dockerfile: b.Dockerfile,
			Target: scrub.shown(b.Target), Args: scrub.shownMap(b.Args), Labels: scrub.shownMap(b.Labels),
			LLBDigest: b.LLBDigest.String(), ConfigDigest: b.ConfigDigest.String(), Ops: b.Ops,
			Bases:     make([]JSONBase, 0, len(b.Bases)),
			Contexts:  make([]JSONContext, 0, len(b.Contexts)),
			DependsOn: append([]string{}, b.DependsOn...),
			Outputs:   make([]JSONOutput, 0, len(b.Outputs)),
			CacheFrom: scrub.shownList(b.CacheFrom), CacheTo: scrub.shownList(b.CacheTo),
			Builders: append([]string(nil), b.Builders...),
		}
		for _, x := range b.Bases {
			jb.Bases = append(jb.Bases, JSONBase{Ref: x.Ref, Digest: x.Digest.String(), Platform: x.Platform, Host: x.Host, Resolved: x.Resolved})
		}
		for _, x := range b.Contexts {
			jb.Contexts = append(jb.Contexts, JSONContext{Name: x.Name, Path: x.Path, Digest: x.Digest.String(), IgnoreFile: x.IgnoreFile})
		}
		for _, x := range b.Outputs {
			jb.Outputs = append(jb.Outputs, JSONOutput(x))
		}
		jb.NoCache, jb.NoCacheFilter = b.NoCache, append([]string(nil), b.NoCacheFilter...)
		jb.Entitlements = append([]string(nil), b.Entitlements...)
		jb.Secrets, jb.SSH = cloneMap(b.Secrets), append([]string(nil), b.SSH...)
		jb.Attest, jb.Annotations = jsonAttest(b.Attest), scrub.shownMap(cloneMap(b.Annotations))
		jb.SourceDateEpoch, jb.Unreproducible = b.SourceDateEpoch, scrub.shownList(b.Unreproducible)
		jb.NamedContexts = scrub.shownMap(cloneMap(b.NamedContexts))
		out.Builds = append(out.Builds, jb)
	}
	return out
}

// ReadJSON decodes a plan saved with --format json and checks its format version.
func ReadJSON(r io.Reader, name string) (*JSONPlan, error) {
	var p JSONPlan
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("read plan %s: %w (expected the output of `archc plan --format json`)", name, err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("read plan %s: format_version %q, this archc reads %q", name, p.FormatVersion, FormatVersion)
	}
	return &p, nil
}

type jsonView struct {
	scrub  Scrub
	expect Expectations   // WithExpectations
	vars   []PlanVariable // WithVariables
}

func (v jsonView) withVariables(vars []PlanVariable) View { v.vars = vars; return v }

func (v jsonView) withExpectations(e Expectations) View { v.expect = e; return v }

func (v jsonView) Plan(w io.Writer, p *Plan) error {
	jp := p.JSON(v.scrub)
	for _, x := range v.vars {
		x.Value = v.scrub.shown(x.Value)
		jp.Variables = append(jp.Variables, x)
	}
	for i := range jp.Builds {
		if x, ok := v.expect[jp.Builds[i].ID]; ok {
			jp.Builds[i].ExpectedUpToDate = &JSONExpectation{Digest: x.Digest, Hosts: slices.Clone(x.Hosts)}
		}
	}
	return writeJSON(w, jp)
}

func (jsonView) Diff(w io.Writer, d *Diff) error { return writeJSON(w, d) }

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
