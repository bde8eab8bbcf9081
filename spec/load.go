package spec

import (
	"fmt"
	"path/filepath"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// LoadOptions say which files to read and how to set variables.
type LoadOptions struct {
	// Files are the spec files, merged in order: later files win per attribute.
	Files []string
	// Vars are --var NAME=VALUE overrides; they beat the environment and defaults.
	Vars map[string]string
	// Environ is the process environment (KEY=VALUE); ARCHC_VAR_NAME entries set variables.
	Environ []string
}

// source is one spec file's bytes, named as it will appear in diagnostics.
type source struct {
	Name   string // as given (relative to the working directory), for file:line:col
	AbsDir string
	Abs    string
	Bytes  []byte
}

// Load reads, merges, evaluates and validates the spec files. On success it returns the
// Spec and any warnings; otherwise a nil Spec and every problem found, each with its range.
func Load(opts LoadOptions) (*Spec, hcl.Diagnostics) {
	if len(opts.Files) == 0 {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No spec file",
			Detail: "Name a spec file (default ./archbuild.hcl)."}}
	}
	var diags hcl.Diagnostics
	var srcs []source
	for _, f := range opts.Files {
		src, err := readSource(f)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read spec file",
				Detail: fmt.Sprintf("read %s: %v.", f, err)})
			continue
		}
		srcs = append(srcs, src)
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return load(srcs, opts)
}

func readSource(name string) (source, error) {
	b, err := ReadSourceFile(name)
	if err != nil {
		return source{}, unwrapPathErr(err)
	}
	abs, err := filepath.Abs(name)
	if err != nil {
		return source{}, err
	}
	return source{Name: filepath.Clean(name), Abs: abs, AbsDir: filepath.Dir(abs), Bytes: b}, nil
}

// load is Load after reading: parse, merge, evaluate, check.
func load(srcs []source, opts LoadOptions) (*Spec, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	var bodies []*hclsyntax.Body
	dirs := map[string]string{}
	s := &Spec{Dir: srcs[0].AbsDir}
	for _, src := range srcs {
		if d := CheckSource(src.Name, src.Bytes); d.HasErrors() {
			diags = append(diags, d...)
			continue
		}
		body, d := parseSource(src)
		diags = append(diags, d...)
		if body != nil && !d.HasErrors() {
			bodies = append(bodies, body)
		}
		dirs[src.Name] = src.AbsDir
		s.Files = append(s.Files, src.Abs)
	}
	if diags.HasErrors() {
		return nil, sortDiagnostics(diags, srcs)
	}
	doc, d := mergeBodies(bodies)
	diags = append(diags, d...)
	e := newEvaluator(doc, dirs, s.Dir)
	e.funcs[fileFuncName] = newFileReader(s.Dir).function() // the context shares this map
	diags = append(diags, envWithoutPrefix(doc.Blocks(blockVariable), opts)...)
	diags = append(diags, e.evalVariables(doc.Blocks(blockVariable), opts)...)
	diags = append(diags, e.evalLocals(doc.Blocks(blockLocals))...)
	s.Variables = e.variables
	sort.Slice(s.Variables, func(i, j int) bool { return s.Variables[i].Name < s.Variables[j].Name })
	diags = append(diags, e.fill(doc, s)...)
	if diags.HasErrors() {
		return nil, sortDiagnostics(diags, srcs)
	}
	return s, sortDiagnostics(diags, srcs)
}

// parseSource parses one spec file, in native syntax or (*.json) HCL's JSON syntax, and
// binds its file() calls to its directory.
func parseSource(src source) (*hclsyntax.Body, hcl.Diagnostics) {
	if isJSONSpec(src.Name) {
		return parseJSONSpec(src.Bytes, src.Name)
	}
	f, diags := hclsyntax.ParseConfig(src.Bytes, src.Name, hcl.InitialPos)
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok || diags.HasErrors() {
		return nil, diags
	}
	return body, append(diags, bindFileCalls(body, src.AbsDir)...)
}

// fill evaluates everything but variables and locals into s.
func (e *evaluator) fill(doc *document, s *Spec) hcl.Diagnostics {
	var diags hcl.Diagnostics
	p, d := e.topPlatforms(doc.Platforms)
	s.Platforms, diags = p, append(diags, d...)
	for _, b := range doc.Blocks(blockProxy) {
		s.Proxy, d = e.proxy(b)
		diags = append(diags, d...)
	}
	for _, b := range doc.Blocks(blockRegistry) {
		r, d := e.registry(b)
		s.Registries, diags = append(s.Registries, r), append(diags, d...)
	}
	for _, b := range doc.Blocks(blockBuilder) {
		bl, d := e.builder(b)
		s.Builders, diags = append(s.Builders, bl), append(diags, d...)
	}
	s.BuildPlatforms, d = e.buildPlatforms(doc.BuildPlatforms)
	diags = append(diags, d...)
	defaults := componentDefaults{Platforms: s.Platforms, Builders: s.Builders, Secrets: map[string]bool{}, SSH: map[string]bool{}}
	for _, b := range doc.Blocks(blockSecret) {
		sec, d := e.secret(b)
		s.Secrets, diags = append(s.Secrets, sec), append(diags, d...)
		defaults.Secrets[sec.ID] = true
	}
	for _, b := range doc.Blocks(blockSSH) {
		sh, d := e.ssh(b)
		s.SSH, diags = append(s.SSH, sh), append(diags, d...)
		defaults.SSH[sh.ID] = true
	}
	defaults.CacheFrom, d = e.topCache(doc.CacheFrom, false)
	diags = append(diags, d...)
	defaults.CacheTo, d = e.topCache(doc.CacheTo, true)
	diags = append(diags, d...)
	defaults.CommitTime = e.commitTimeOnce()
	defaults.SourceDateEpoch, d = e.topEpoch(doc.SourceDateEpoch, defaults.CommitTime)
	diags = append(diags, d...)
	defaults.Attest, defaults.SBOMGenerator, d = e.topAttest(doc)
	diags = append(diags, d...)
	var comps []Component
	for _, b := range doc.Blocks(blockComponent) {
		c, d := e.component(b, defaults)
		comps, diags = append(comps, c), append(diags, d...)
	}
	s.Components, d = orderComponents(comps)
	return append(diags, d...)
}

// sortDiagnostics orders diagnostics by file (in the order given), line and column, so
// output is stable; diagnostics without a range come first.
func sortDiagnostics(diags hcl.Diagnostics, srcs []source) hcl.Diagnostics {
	order := map[string]int{}
	for i, s := range srcs {
		order[s.Name] = i + 1
	}
	key := func(d *hcl.Diagnostic) (int, int, int) {
		if d.Subject == nil {
			return 0, 0, 0
		}
		return order[d.Subject.Filename], d.Subject.Start.Line, d.Subject.Start.Column
	}
	sort.SliceStable(diags, func(i, j int) bool {
		fi, li, ci := key(diags[i])
		fj, lj, cj := key(diags[j])
		if fi != fj {
			return fi < fj
		}
		if li != lj {
			return li < lj
		}
		return ci < cj
	})
	return diags
}
