package compiler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/archc-dev/archc/internal/atomicfile"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
)

// planFileVersion marks the plan file format; Load refuses others.
const planFileVersion = "archc-plan-file/1"

// PlanFile is what `archc plan -out FILE` saves and `archc apply FILE` builds: the plan
// with every marshalled definition (without proxy settings: no secret is ever written),
// image configs, context digests, the lock entries used, the spec's digest and the bases'
// content. A file is a claim, not an input: apply FILE builds it only when the spec, the
// lock and the contexts produce exactly it (Check).
type PlanFile struct {
	// Plan is the plan as compiled.
	Plan *Plan
	// SpecFiles are the spec files, relative to the plan file's directory, so apply can
	// load and check the spec the plan came from.
	SpecFiles []string
	// Lock are the pins the plan uses, one per reference and platform, sorted.
	Lock []LockEntry
	// Vars are the spec variables set from outside (--var or ARCHC_VAR_NAME) when the plan
	// was made, by name, as given. apply FILE loads the spec with them as --var, so the
	// spec evaluates as it did. Values may be secrets (a proxy password): they are written
	// only to the plan file (mode 0600), never printed.
	Vars map[string]string
	// Scrub hides the spec's sensitive values in the builds' args and labels as saved.
	Scrub Scrub
	// BaseContent is the pinned bases' image configs, manifests and indexes, by digest
	// (CarryBaseContent), so a runner with a cold content cache can check the plan. It is
	// content-addressed and used only where the lock names the digest.
	BaseContent map[digest.Digest][]byte

	// saved is the file as read (decoded JSON), which Match compares field by field.
	saved map[string]any
}

// LockEntry is one pin the plan relies on.
type LockEntry struct {
	Ref      string        `json:"ref"`
	Platform string        `json:"platform"`
	Digest   digest.Digest `json:"digest"`
	Host     string        `json:"host"`
}

// NewPlanFile wraps p for saving; specFiles are absolute paths of the spec files.
func NewPlanFile(p *Plan, specFiles []string) *PlanFile {
	f := &PlanFile{Plan: p}
	seen := map[string]bool{}
	for _, b := range p.Builds {
		for _, x := range b.Bases {
			k := x.Ref + " " + x.Platform
			if !seen[k] {
				seen[k] = true
				f.Lock = append(f.Lock, LockEntry{Ref: x.Ref, Platform: x.Platform, Digest: x.Digest, Host: x.Host})
			}
		}
	}
	sort.Slice(f.Lock, func(i, j int) bool {
		if f.Lock[i].Ref != f.Lock[j].Ref {
			return f.Lock[i].Ref < f.Lock[j].Ref
		}
		return f.Lock[i].Platform < f.Lock[j].Platform
	})
	f.SpecFiles = append([]string(nil), specFiles...)
	return f
}

// fileForm is the on-disk JSON.
type fileForm struct {
	Version       string        `json:"archc_plan_file"`
	SpecFiles     []string      `json:"spec_files"`
	SpecDigest    digest.Digest `json:"spec_digest"`
	BuildPlatform string        `json:"build_platform"`
	Proxy         *spec.Proxy   `json:"proxy,omitempty"`
	Warnings      []string      `json:"warnings"`
	Lock          []LockEntry   `json:"lock"`
	Builds        []fileBuild   `json:"builds"`
	// Variables may hold secrets: see PlanFile.Vars.
	Variables   map[string]string        `json:"variables,omitempty"`
	BaseContent map[digest.Digest][]byte `json:"base_content,omitempty"`
	// Selection is an input, like BuildPlatform: Match selects the same builds again.
	Selection   *Selection `json:"selection,omitempty"`
	NotSelected []string   `json:"not_selected,omitempty"`
}

type fileBuild struct {
	JSONBuild
	LocalContexts []Context     `json:"local_contexts"`
	Definition    []byte        `json:"definition"` // pb.Definition, deterministic protobuf
	ImageConfig   []byte        `json:"image_config"`
	Bases         []Base        `json:"pinned_bases"`
	Digest        digest.Digest `json:"definition_digest"` // re-derived on load: guards against edits
}

// Save writes the plan file atomically (temp file + rename) at path.
func (f *PlanFile) Save(path string) error {
	dir := filepath.Dir(path)
	ff, err := f.form(dir)
	if err != nil {
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	// 0600: Vars may hold secrets.
	err = atomicfile.Write(path, 0o600, func(w io.Writer) error {
		enc := json.NewEncoder(w)
		enc.SetIndent("", " ")
		return enc.Encode(ff)
	})
	if err != nil {
		return fmt.Errorf("save plan %s: %w", path, err)
	}
	return nil
}

// form is the plan file's on-disk form, with spec files relative to dir. Save writes it,
// and Match compares a loaded file with the form of the plan the spec produces: one
// encoder, so every field Save writes is a field Match checks.
func (f *PlanFile) form(dir string) (*fileForm, error) {
	ff := &fileForm{Version: planFileVersion, SpecDigest: f.Plan.SpecDigest, BuildPlatform: f.Plan.BuildPlatform,
		Warnings: f.Plan.Warnings, Lock: f.Lock, Variables: f.Vars, BaseContent: f.BaseContent}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for _, s := range f.SpecFiles {
		ff.SpecFiles = append(ff.SpecFiles, relPath(abs, s))
	}
	jp := f.Plan.JSON(f.Scrub)
	ff.Proxy, ff.Selection, ff.NotSelected = jp.Proxy, jp.Selection, jp.NotSelected
	for i, b := range f.Plan.Builds {
		dt, err := marshalDefinition(b.Definition)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.ID, err)
		}
		ff.Builds = append(ff.Builds, fileBuild{JSONBuild: jp.Builds[i], LocalContexts: b.Contexts, Definition: dt, ImageConfig: b.ImageConfig, Bases: b.Bases, Digest: digest.FromBytes(dt)})
	}
	return ff, nil
}

// LoadPlanFile reads a plan file written by Save. SpecFiles come back absolute.
func LoadPlanFile(path string) (*PlanFile, error) {
	dt, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load plan %s: %w", path, err)
	}
	var ff fileForm
	var saved map[string]any
	if err = json.Unmarshal(dt, &ff); err == nil {
		err = json.Unmarshal(dt, &saved)
	}
	if err != nil {
		return nil, fmt.Errorf("load plan %s: %w (expected a file written by `archc plan -out`)", path, err)
	}
	if ff.Version != planFileVersion {
		return nil, fmt.Errorf("load plan %s: format %q, this archc reads %q: run archc plan -out again", path, ff.Version, planFileVersion)
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("load plan %s: %w", path, err)
	}
	p := &Plan{BuildPlatform: ff.BuildPlatform, SpecDigest: ff.SpecDigest, Warnings: ff.Warnings}
	if ff.Proxy != nil {
		p.Proxy = ff.Proxy
	}
	if ff.Selection != nil {
		p.Selection = *ff.Selection
	}
	p.NotSelected = ff.NotSelected
	for _, fb := range ff.Builds {
		b, err := fb.build()
		if err != nil {
			return nil, fmt.Errorf("load plan %s: %w", path, err)
		}
		p.Builds = append(p.Builds, b)
	}
	for d, dt := range ff.BaseContent {
		if d.Validate() != nil || d.Algorithm().FromBytes(dt) != d {
			return nil, fmt.Errorf("load plan %s: base_content: %s does not match its content (file edited?)", path, spec.SafeLine(string(d)))
		}
	}
	f := &PlanFile{Plan: p, Lock: ff.Lock, Vars: ff.Variables, BaseContent: ff.BaseContent, saved: saved}
	for _, s := range ff.SpecFiles {
		f.SpecFiles = append(f.SpecFiles, filepath.Join(abs, filepath.FromSlash(s)))
	}
	if len(f.SpecFiles) == 0 {
		return nil, fmt.Errorf("plan %s names no spec files", path)
	}
	return f, nil
}

// IsPlanFile tells a plan file (written by PlanFile.Save) from a spec by content.
func IsPlanFile(path string) bool {
	if filepath.Ext(path) == ".hcl" {
		return false
	}
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := f.Read(head)
	head = bytes.TrimSpace(head[:n])
	return bytes.HasPrefix(head, []byte("{")) && bytes.Contains(head, []byte(`"archc_plan_file"`))
}

// LoadSpec loads the spec files the plan names with the variables it was made with (and
// environ, for the rest). A variable the spec no longer declares makes the plan stale (an
// error wrapping ErrStale), not the spec wrong: its diagnostics are then dropped. The
// diagnostics are the caller's to show.
func (f *PlanFile) LoadSpec(environ []string) (*spec.Spec, hcl.Diagnostics, error) {
	s, diags := spec.Load(spec.LoadOptions{Files: f.SpecFiles, Vars: f.Vars, Environ: environ})
	if gone := spec.UndeclaredVars(diags); len(gone) > 0 {
		return nil, nil, fmt.Errorf("%w: the spec no longer declares variable %s, set when the plan was made; run `archc plan -out` again",
			ErrStale, strings.Join(gone, ", "))
	}
	return s, diags, nil
}

func (fb fileBuild) build() (Build, error) {
	if digest.FromBytes(fb.Definition) != fb.Digest {
		return Build{}, fmt.Errorf("%s: definition does not match its checksum (file edited?)", fb.ID)
	}
	var pdef pb.Definition
	if err := proto.Unmarshal(fb.Definition, &pdef); err != nil {
		return Build{}, fmt.Errorf("%s: decode definition: %w", fb.ID, err)
	}
	def := &llb.Definition{}
	def.FromPB(&pdef)
	if len(def.Def) == 0 || digest.FromBytes(def.Def[len(def.Def)-1]).String() != fb.LLBDigest {
		return Build{}, fmt.Errorf("%s: definition does not match llb_digest %s", fb.ID, fb.LLBDigest)
	}
	cd := digest.FromBytes(fb.ImageConfig)
	if fb.ConfigDigest != "" && fb.ConfigDigest != cd.String() {
		return Build{}, fmt.Errorf("%s: image config does not match config_digest %s (file edited?)", fb.ID, fb.ConfigDigest)
	}
	b := Build{
		ID: fb.ID, Component: fb.Component, Platform: fb.Platform, Dockerfile: fb.Dockerfile,
		Target: fb.Target, Args: fb.Args, Labels: fb.Labels,
		LLBDigest: digest.Digest(fb.LLBDigest), ConfigDigest: cd, Ops: fb.Ops,
		Bases: fb.Bases, Contexts: fb.LocalContexts, DependsOn: fb.JSONBuild.DependsOn,
		Definition: def, ImageConfig: fb.ImageConfig,
		CacheFrom: fb.CacheFrom, CacheTo: fb.CacheTo, Builders: fb.Builders,
		Secrets: fb.JSONBuild.Secrets, SSH: fb.JSONBuild.SSH, NoCache: fb.NoCache, NoCacheFilter: fb.NoCacheFilter,
		Entitlements: fb.Entitlements, Annotations: fb.JSONBuild.Annotations,
		SourceDateEpoch: fb.SourceDateEpoch, Unreproducible: fb.Unreproducible,
		NamedContexts: fb.NamedContexts,
	}
	if a := fb.JSONBuild.Attest; a != nil {
		b.Attest = Attest{Provenance: a.Provenance, SBOM: a.SBOM, SBOMGenerator: a.SBOMGenerator}
	}
	for _, o := range fb.Outputs {
		b.Outputs = append(b.Outputs, Output(o))
	}
	return b, nil
}

// ErrStale is wrapped by Check's error when the plan no longer matches its inputs.
var ErrStale = errors.New("plan is stale")

// staleInputs are Check's cheap checks: the spec's digest and, when lock is not nil, the
// pins. Pins are checked against the lock's manifest digests alone: no image config, so a
// fresh CI runner with a cold content cache gets this far.
func (f *PlanFile) staleInputs(s *spec.Spec, lock *registry.Lock) ([]string, error) {
	var problems []string
	sd, err := SpecDigest(s)
	if err != nil {
		return nil, err
	}
	if sd != f.Plan.SpecDigest {
		problems = append(problems, "the spec changed")
	}
	if lock != nil {
		problems = append(problems, f.verifyPins(lock)...)
	}
	return problems, nil
}

// staleError is nil without problems, else an error wrapping ErrStale that names them.
func staleError(problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s since it was saved; run `archc plan -out` again and review it", ErrStale, strings.Join(problems, "; "))
}

// verifyPins compares each pin the plan used with the lock's manifest digest for the same
// reference and platform.
func (f *PlanFile) verifyPins(lock *registry.Lock) []string {
	var problems []string
	for _, e := range f.Lock {
		var pi *registry.PlatformImage
		if im := lock.Find(e.Ref); im != nil {
			pi = im.Platform(e.Platform)
		}
		switch {
		case pi == nil:
			problems = append(problems, fmt.Sprintf("pin %s (%s) is no longer in %s", e.Ref, e.Platform, registry.LockFileName))
		case pi.Manifest != e.Digest:
			problems = append(problems, fmt.Sprintf("pin %s (%s) moved from %s to %s", e.Ref, e.Platform, e.Digest, pi.Manifest))
		}
	}
	return problems
}

// verifyContexts recomputes each distinct local context (a directory with its ignore file)
// once, choosing the main context's ignore file by the same rule as the compile, so adding
// or removing a <Dockerfile>.dockerignore is a change too.
func (f *PlanFile) verifyContexts(ctx context.Context, specDir string) []string {
	type key struct{ path, ignore string }
	users := map[key][]string{}
	want := map[key]digest.Digest{}
	for _, b := range f.Plan.Builds {
		for _, c := range b.Contexts {
			k := key{path: c.Path}
			if c.Name == dockerui.DefaultLocalNameContext {
				k.ignore = mainIgnoreFile(filepath.Join(specDir, filepath.FromSlash(b.Dockerfile)))
			}
			users[k] = append(users[k], b.ID)
			want[k] = c.Digest
		}
	}
	keys := make([]key, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].path < keys[j].path || keys[i].path == keys[j].path && keys[i].ignore < keys[j].ignore
	})
	var problems []string
	for _, k := range keys {
		lc, err := loadLocalContext(ctx, specDir, filepath.Join(specDir, filepath.FromSlash(k.path)), k.ignore)
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("context %s cannot be read: %v", k.path, err))
		case lc.digest != want[k]:
			problems = append(problems, fmt.Sprintf("context %s changed (used by %s)", k.path, strings.Join(users[k], ", ")))
		}
	}
	return problems
}

// LocalDirs maps each llb.Local name the plan's definitions use to its absolute directory
// under specDir; the solver attaches these to its session.
func (p *Plan) LocalDirs(specDir string) map[string]string {
	out := map[string]string{}
	for _, b := range p.Builds {
		for _, c := range b.Contexts {
			out[c.LocalName] = filepath.Join(specDir, filepath.FromSlash(c.Path))
		}
	}
	return out
}
