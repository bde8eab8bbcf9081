package compiler

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	digest "github.com/opencontainers/go-digest"
)

// Plan is what archc will build: one Build per component × platform, each with the exact
// LLB it will solve. It is a value: computing it does no I/O beyond reading the spec's
// contexts, and views (text, JSON, DOT) only render it.
type Plan struct {
	// BuildPlatform is the platform $BUILDPLATFORM stages run on: the host's, or the
	// --build-platform override. It is an input of every build.
	BuildPlatform string

	// SpecDigest identifies the evaluated spec (see SpecDigest); apply refuses a plan file
	// whose spec changed since.
	SpecDigest digest.Digest

	// Builds are sorted by ID.
	Builds []Build

	// Proxy is the spec's proxy, Redacted and without its source range, or nil. It is
	// shown, but it is deliberately not part of any build's identity: the solver adds the
	// spec's own proxy to the exec ops (WithProxy) right before solving.
	Proxy *spec.Proxy

	// Warnings are things a reviewer should know (a `# syntax=` line that is ignored, lint
	// findings), sorted and de-duplicated, each prefixed with its component.
	Warnings []string

	// Selection is what the plan was asked to build (Select); empty means the whole spec.
	// Like BuildPlatform it is an input: a plan file carries it.
	Selection Selection
	// NotSelected are the IDs of the spec's builds the selection leaves out, sorted: they
	// were compiled (their bases are pinned like every other) but are not built.
	NotSelected []string
}

// Scrub hides sensitive values in text a view prints (spec.Spec.Scrubber); nil hides
// nothing. Views take one, so a Plan stays a plain value.
type Scrub func(string) string

// shown is s as a view may print it.
func (sc Scrub) shown(s string) string {
	if sc == nil {
		return s
	}
	return sc(s)
}

// shownList is l with every element as a view may print it; nil stays nil.
func (sc Scrub) shownList(l []string) []string {
	if l == nil {
		return nil
	}
	out := make([]string, len(l))
	for i, v := range l {
		out[i] = sc.shown(v)
	}
	return out
}

// shownMap is m with every value as a view may print it.
func (sc Scrub) shownMap(m map[string]string) map[string]string {
	if m == nil || sc == nil {
		return m
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = sc(v)
	}
	return out
}

// Build is one component compiled for one platform.
type Build struct {
	// ID is "COMPONENT/OS/ARCH[/VARIANT]", unique in a plan.
	ID string
	// Component is the spec component's name.
	Component string
	// Platform is the target platform, normalized ("linux/arm64", "linux/arm/v7").
	Platform string
	// Dockerfile is the Dockerfile's path relative to the spec's directory.
	Dockerfile string
	// Target is the stage built ("" = the last one).
	Target string
	// Args are the component's build args as given in the spec (automatic platform args
	// are not listed).
	Args map[string]string
	// Labels are the component's extra image labels.
	Labels map[string]string

	// LLBDigest identifies what gets built: the digest of the definition's terminal op,
	// which by Merkle construction covers every op, the pinned bases and (through each
	// local source's stable unique id) the content digest of every local context. It does
	// not depend on the proxy or on session names.
	LLBDigest digest.Digest
	// Ops is the number of LLB ops (without the terminal op).
	Ops int
	// ConfigDigest identifies the image config: the digest of ImageConfig, the exact bytes
	// the solver attaches to the export (encoding/json of the typed config: fixed field
	// order, sorted map keys, no whitespace). ENTRYPOINT, CMD, LABEL, ENV, EXPOSE and spec
	// labels change it without touching a single op, so a build changes when LLBDigest or
	// ConfigDigest does.
	ConfigDigest digest.Digest

	// Bases are the pinned images this build uses, sorted by ref then platform.
	Bases []Base
	// Contexts are the local directories this build sends, sorted by name; "context" is
	// the main build context.
	Contexts []Context
	// DependsOn are the IDs of the builds whose results this build uses, sorted.
	DependsOn []string
	// NamedContexts are the component's named contexts (contexts) the compiled Dockerfile
	// takes content from, in place of the image or stage its FROM or --from names: name →
	// "component.NAME", "docker-image://REF" or a directory relative to the spec's. A
	// context nothing uses is left out; nil for none.
	NamedContexts map[string]string
	// Outputs say what apply does with the result.
	Outputs []Output
	// CacheFrom and CacheTo are the component's BuildKit cache imports and exports
	// (cache_from, cache_to) in buildx's normalized CSV form, local directories relative to
	// the spec's directory; nil for none. They do not change what is built, only where its
	// layers may come from and go to.
	CacheFrom []string
	CacheTo   []string
	// NoCache is set when every stage runs without the cache (no_cache); NoCacheFilter
	// names the stages that do (no_cache_filter), sorted. The steps carry IgnoreCache in
	// their metadata, which llb_digest does not cover: these fields are how the plan shows it.
	NoCache       bool
	NoCacheFilter []string
	// Entitlements are what the build's steps need (network.host, security.insecure),
	// sorted; each is in the component's allow (or the plan is refused). Apply grants the
	// build's solves exactly these.
	Entitlements []string
	// Builders are the builders the spec routes this build to, most preferred first
	// (spec.BuilderCandidates): one for a pin, several when apply chooses by load and
	// cache affinity among them. nil means the default local builder.
	Builders []string
	// Secrets map the id of each secret the component provides to this build (secrets) to
	// its source kind (SecretFromEnv, SecretFromFile); never a value. Apply serves these
	// and no others.
	Secrets map[string]string
	// SSH are the ssh ids the component provides to this build (ssh), sorted.
	SSH []string
	// Attest are the attestations apply asks BuildKit to attach (attest): SLSA provenance
	// and an SBOM, pushed in the index as an attestation manifest per platform. The SBOM's
	// scanner image (Attest.SBOMGenerator) is pinned like a base, at the plan's build
	// platform, and listed in Bases. They change the pushed index, not what is built.
	Attest Attest
	// Annotations are the component's annotations that apply to this build (annotations),
	// keyed "TYPE:KEY" (TYPE index, index-descriptor, manifest or manifest-descriptor; a
	// manifest annotation for another platform left out, one for this platform unqualified);
	// nil for none.
	Annotations map[string]string

	// SourceDateEpoch is the epoch of a reproducible build, in decimal seconds since 1970
	// (source_date_epoch, or a numeric SOURCE_DATE_EPOCH arg): the SOURCE_DATE_EPOCH build
	// arg, the image config's created time, and the time apply clamps layer files to. ""
	// when the component sets none.
	SourceDateEpoch string
	// Unreproducible are the steps, found in the LLB, whose output can differ between two
	// builds of this plan despite the epoch ("LOCATION: why", sorted): ADD of a URL without
	// --checksum, RUN on the host's network. Set only with an epoch.
	Unreproducible []string

	// Definition is the marshalled LLB, without proxy settings.
	Definition *llb.Definition
	// ImageConfig is the result's image config JSON (the solver attaches it to the export,
	// or ENTRYPOINT, ENV... are lost).
	ImageConfig []byte
}

// Base is one pinned base image of a build.
type Base struct {
	// Ref is the normalized reference as written, with its tag ("docker.io/library/alpine:3.20").
	Ref string
	// Digest is the manifest digest for Platform that the build is pinned to.
	Digest digest.Digest
	// Platform is the platform the base was pinned for (the build platform for
	// FROM --platform=$BUILDPLATFORM stages).
	Platform string
	// Host is the registry host or mirror that served the pin (no credentials).
	Host string
	// Resolved is true when the lock lacked this pin and the plan resolved it.
	Resolved bool
}

// Context is one local directory a build sends to the builder.
type Context struct {
	// Name is "context" for the main build context, or the named context's name.
	Name string
	// Path is the directory relative to the spec's directory, slash-separated.
	Path string
	// LocalName is the stable name of the llb.Local source; the solver maps it to the
	// directory in its session.
	LocalName string
	// Digest is the content digest of what is sent (the ignore file applied).
	Digest digest.Digest
	// Excludes are the ignore file's patterns.
	Excludes []string
	// IgnoreFile is the ignore file applied, relative to the spec's directory: the main
	// context's <Dockerfile>.dockerignore when it exists, else the directory's .dockerignore;
	// "" when there is none.
	IgnoreFile string
}

// Output is one thing apply does with a build's result.
type Output struct {
	// Type is one of spec.OutputRegistry, OutputOCI, OutputLocal, OutputDocker, OutputCacheOnly.
	Type string
	// Name is the image tag pushed (registry outputs) or loaded (docker outputs, one Output per tag).
	Name string
	// Path is the destination relative to the spec's directory (oci and local outputs; the
	// tarball of a docker output, "" when only a Docker engine gets it).
	Path string
}

// Expectation is what apply expects of one build from archc's records of what it pushed
// from this machine (solver.Expect). It is local state, not an input: it is no part of
// the Plan value nor of a plan file (the same inputs give the same plan on every machine),
// and views show it only when given one (WithExpectations).
type Expectation struct {
	// Digest is the index (or manifest) every tag of the build named when archc pushed it.
	Digest string
	// Hosts are the registries it was pushed to, sorted.
	Hosts []string
}

// Expectations are keyed by build ID: the builds apply expects to find up to date (their
// inputs are those of a recorded push); the others are expected to be solved.
type Expectations map[string]Expectation

// WithExpectations returns v showing which builds apply expects to be up to date; a view
// with no place for it (dot) is returned as it is.
func WithExpectations(v View, e Expectations) View {
	if x, ok := v.(interface{ withExpectations(Expectations) View }); ok && len(e) > 0 {
		return x.withExpectations(e)
	}
	return v
}

// Build returns the build with the given ID, or nil.
func (p *Plan) Build(id string) *Build {
	for i := range p.Builds {
		if p.Builds[i].ID == id {
			return &p.Builds[i]
		}
	}
	return nil
}

// SyntaxRule is the name under which `# check=skip=` silences archc's warning about a
// `# syntax=` line (SyntaxWarning): BuildKit's own way to skip lint rules, so one directive
// covers BuildKit's checks and archc's, and the Dockerfile still builds with docker build.
const SyntaxRule = "ArchcSyntaxIgnored"

// SyntaxWarning is the plan warning for a Dockerfile (dt, at dockerfile) that asks for a
// frontend with `# syntax=`, or "" when it asks for none or silences the warning as it
// would a BuildKit check: `# check=skip=ArchcSyntaxIgnored` (or skip=all), or the same in
// the BUILDKIT_DOCKERFILE_CHECK build arg, which BuildKit reads before the directive.
func SyntaxWarning(dockerfile string, dt []byte, args map[string]string) string {
	// Any spelling of the directive holds the word; most Dockerfiles do not, and the
	// parser's scan costs more than the compile of a small one allocates elsewhere.
	if !containsFold(dt, "syntax") {
		return ""
	}
	name, _, _, ok := parser.DetectSyntax(dt)
	if !ok {
		return ""
	}
	check, ok := args["BUILDKIT_DOCKERFILE_CHECK"]
	if !ok {
		check, _, _, _ = parser.ParseDirective("check", dt)
	}
	// An unreadable check option fails the compile (dockerfile2llb parses it too); the
	// warning stays.
	if cfg, err := linter.ParseLintOptions(check); err == nil && (cfg.SkipAll || slices.Contains(cfg.SkipRules, SyntaxRule)) {
		return ""
	}
	return fmt.Sprintf("%s asks for frontend %s with `# syntax=`; archc compiles with the Dockerfile frontend built into buildkit %s (silence: # check=skip=%s)",
		dockerfile, name, buildkitVersion, SyntaxRule)
}

// MergeWarnings merges warnings that differ only by their component ("COMPONENT: text",
// sorted): components sharing a Dockerfile get its `# syntax=` and lint findings once,
// as "a, b: text". The result is sorted by text after the component list, so it stays
// deterministic.
func MergeWarnings(ws []string) []string {
	if len(ws) < 2 {
		return ws
	}
	byText := map[string][]string{}
	var texts []string
	for _, w := range ws {
		comp, text, ok := strings.Cut(w, ": ")
		if !ok || strings.ContainsAny(comp, " ,") {
			comp, text = "", w // no component prefix (or already merged)
		}
		if _, seen := byText[text]; !seen {
			texts = append(texts, text)
		}
		if !slices.Contains(byText[text], comp) {
			byText[text] = append(byText[text], comp)
		}
	}
	out := make([]string, 0, len(texts))
	for _, text := range texts {
		comps := byText[text]
		slices.Sort(comps)
		if len(comps) == 1 && comps[0] == "" {
			out = append(out, text)
			continue
		}
		out = append(out, strings.Join(slices.DeleteFunc(comps, func(c string) bool { return c == "" }), ", ")+": "+text)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// containsFold reports whether dt holds word (ASCII) in any case.
func containsFold(dt []byte, word string) bool {
	for i := 0; i+len(word) <= len(dt); i++ {
		if bytes.EqualFold(dt[i:i+len(word)], []byte(word)) {
			return true
		}
	}
	return false
}
