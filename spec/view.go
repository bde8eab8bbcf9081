package spec

import (
	"encoding/json"
	"path/filepath"

	ctyjson "github.com/zclconf/go-cty/cty/json"
)

// Normalized is the JSON view of a Spec (`archc validate --json`): every default filled
// in, variables resolved, components in dependency order, paths relative to Spec.Dir with
// forward slashes, proxy passwords redacted. Fields are in alphabetical order, like the
// keys of its maps, so the output is stable.
type Normalized struct {
	// BuildPlatforms is build_platforms; [] means this machine's platform.
	BuildPlatforms []string                      `json:"build_platforms"`
	Builders       map[string]NormalizedBuilder  `json:"builders"`
	Components     []NormalizedComponent         `json:"components"`
	Files          []string                      `json:"files"`
	Platforms      []string                      `json:"platforms"`
	Proxy          map[string]any                `json:"proxy"`
	Registries     map[string]NormalizedRegistry `json:"registries"`
	Secrets        map[string]NormalizedSecret   `json:"secrets"`
	SSH            map[string]NormalizedSSH      `json:"ssh"`
	Variables      map[string]NormalizedVariable `json:"variables"`
}

// NormalizedSecret is one secret block: where its value comes from, never the value.
type NormalizedSecret struct {
	// Env is the environment variable's name (source "env").
	Env string `json:"env"`
	// File is the file's path relative to the spec's directory (source "file").
	File   string `json:"file"`
	Source string `json:"source"`
}

// NormalizedSSH is one ssh block.
type NormalizedSSH struct {
	// Paths are relative to the spec's directory; [] with source "agent" (SSH_AUTH_SOCK).
	Paths  []string `json:"paths"`
	Source string   `json:"source"`
}

// NormalizedVariable is one resolved variable.
type NormalizedVariable struct {
	Description string          `json:"description,omitempty"`
	Source      string          `json:"source"`
	Type        string          `json:"type"`
	Value       json.RawMessage `json:"value"`
	Sensitive   bool            `json:"sensitive,omitempty"`
}

// NormalizedRegistry is one registry block.
type NormalizedRegistry struct {
	CA          string   `json:"ca"`
	HTTP        bool     `json:"http"`
	Insecure    bool     `json:"insecure"`
	Mirrors     []string `json:"mirrors"`
	MirrorsOnly bool     `json:"mirrors_only"`
}

// NormalizedBuilder is one builder block.
type NormalizedBuilder struct {
	Address string `json:"address"`
	CACert  string `json:"ca_cert"`
	Cert    string `json:"cert"`
	Key     string `json:"key"`
	// MaxParallel is the effective limit: DefaultMaxParallel when the spec sets none.
	MaxParallel int      `json:"max_parallel"`
	Platforms   []string `json:"platforms"`
	Required    bool     `json:"required"`
	ServerName  string   `json:"server_name"`
}

// NormalizedComponent is one component with its defaults filled in.
type NormalizedComponent struct {
	Allow []string `json:"allow"`
	// Annotations are keyed "TYPE[PLATFORM]:KEY" (Annotation.String).
	Annotations map[string]string `json:"annotations"`
	// Args are the build args when they do not use platform, else {} and PlatformArgs.
	Args    map[string]string `json:"args"`
	Attest  NormalizedAttest  `json:"attest"`
	Builder string            `json:"builder"`
	// CacheFrom and CacheTo are the effective lists (the top-level default when the
	// component sets none), normalized, local directories relative to the spec's.
	CacheFrom  []string          `json:"cache_from"`
	CacheTo    []string          `json:"cache_to"`
	Context    string            `json:"context"`
	Contexts   map[string]string `json:"contexts"`
	DependsOn  []string          `json:"depends_on"`
	Dockerfile string            `json:"dockerfile"`
	ExtraHosts map[string]string `json:"extra_hosts"`
	Labels     map[string]string `json:"labels"`
	Name       string            `json:"name"`
	// Network is "default" when the spec sets none.
	Network       string   `json:"network"`
	NoCache       bool     `json:"no_cache"`
	NoCacheFilter []string `json:"no_cache_filter"`
	Output        string   `json:"output"`
	OutputPath    string   `json:"output_path"`
	// PlatformArgs are the build args per target platform, when they use platform.
	PlatformArgs map[string]map[string]string `json:"platform_args"`
	Platforms    []string                     `json:"platforms"`
	Secrets      []string                     `json:"secrets"`
	ShmSize      string                       `json:"shm_size"`
	// SourceDateEpoch is the effective source_date_epoch in seconds ("git" read); null
	// when unset.
	SourceDateEpoch *int64   `json:"source_date_epoch"`
	SSH             []string `json:"ssh"`
	Tags            []string `json:"tags"`
	Target          string   `json:"target"`
	Ulimits         []string `json:"ulimits"`
}

// NormalizedAttest is a component's effective attest settings.
type NormalizedAttest struct {
	// Provenance is "min", "max" or "" (none).
	Provenance string `json:"provenance"`
	SBOM       bool   `json:"sbom"`
	// SBOMGenerator is the scanner image, "" without sbom.
	SBOMGenerator string `json:"sbom_generator"`
}

// Normalized returns the JSON view of s.
func (s *Spec) Normalized() Normalized {
	n := Normalized{
		BuildPlatforms: list(s.BuildPlatforms),
		Builders:       map[string]NormalizedBuilder{},
		Components:     []NormalizedComponent{},
		Platforms:      list(s.Platforms),
		Registries:     map[string]NormalizedRegistry{},
		Secrets:        map[string]NormalizedSecret{},
		SSH:            map[string]NormalizedSSH{},
		Variables:      map[string]NormalizedVariable{},
	}
	for _, sec := range s.Secrets {
		ns := NormalizedSecret{Env: sec.Env, File: s.rel(sec.File), Source: "env"}
		if sec.File != "" {
			ns.Source = "file"
		}
		n.Secrets[sec.ID] = ns
	}
	for _, sh := range s.SSH {
		ns := NormalizedSSH{Paths: []string{}, Source: "agent"}
		for _, p := range sh.Paths {
			ns.Paths, ns.Source = append(ns.Paths, s.rel(p)), "paths"
		}
		n.SSH[sh.ID] = ns
	}
	for _, f := range s.Files {
		n.Files = append(n.Files, s.rel(f))
	}
	for _, v := range s.Variables {
		val, err := ctyjson.Marshal(v.Cty, v.Cty.Type())
		if err != nil || v.Sensitive {
			val, _ = json.Marshal(v.Value)
		} else {
			val = []byte(RedactText(string(val)))
		}
		n.Variables[v.Name] = NormalizedVariable{Description: v.Description, Source: v.Source, Type: v.Type, Value: val, Sensitive: v.Sensitive}
	}
	if p := s.Proxy.Redacted(); p != nil {
		// Every key, even empty, unlike Proxy's own JSON form (the plan's).
		n.Proxy = map[string]any{"all_proxy": p.AllProxy, "http_proxy": p.HTTPProxy, "https_proxy": p.HTTPSProxy, "no_proxy": list(p.NoProxy)}
	}
	for _, r := range s.Registries {
		n.Registries[r.Host] = NormalizedRegistry{CA: s.rel(r.CA), HTTP: r.HTTP, Insecure: r.Insecure,
			Mirrors: list(r.Mirrors), MirrorsOnly: r.MirrorsOnly}
	}
	for _, b := range s.Builders {
		n.Builders[b.Name] = NormalizedBuilder{Address: b.Address, CACert: s.rel(b.CACert), Cert: s.rel(b.Cert),
			Key: s.rel(b.Key), MaxParallel: b.Parallel(), Platforms: list(b.Platforms), Required: b.Required, ServerName: b.ServerName}
	}
	for _, c := range s.Components {
		n.Components = append(n.Components, s.normalizedComponent(c))
	}
	return n
}

func (s *Spec) normalizedComponent(c Component) NormalizedComponent {
	nc := NormalizedComponent{
		Args: dict(c.Args), Builder: c.Builder, CacheFrom: s.RelCacheEntries(c.CacheFrom, false),
		CacheTo: s.RelCacheEntries(c.CacheTo, true), Context: s.rel(c.Context), Contexts: map[string]string{},
		DependsOn: list(c.DependsOn), Dockerfile: s.rel(c.Dockerfile), Labels: dict(c.Labels),
		Name: c.Name, Output: c.Output, OutputPath: s.rel(c.OutputPath), Platforms: list(c.Platforms),
		Tags: list(c.Tags), Target: c.Target,
		Allow: list(c.Allow), ExtraHosts: dict(c.ExtraHosts), Network: c.Network, NoCache: c.NoCache,
		NoCacheFilter: list(c.NoCacheFilter), PlatformArgs: map[string]map[string]string{},
		Secrets: list(c.Secrets), ShmSize: c.ShmSize, SSH: list(c.SSH), Ulimits: list(c.Ulimits),
	}
	if nc.Network == "" {
		nc.Network = NetworkDefault
	}
	nc.SourceDateEpoch = c.SourceDateEpoch
	nc.Attest = NormalizedAttest(c.Attest)
	nc.Annotations = map[string]string{}
	for _, a := range c.Annotations {
		nc.Annotations[a.String()] = a.Value
	}
	for p, args := range c.PlatformArgs {
		nc.PlatformArgs[p] = dict(args)
	}
	for _, x := range c.Contexts {
		switch {
		case x.Component != "":
			nc.Contexts[x.Name] = componentRefPrefix + x.Component
		case x.Image != "":
			nc.Contexts[x.Name] = dockerImagePrefix + x.Image
		default:
			nc.Contexts[x.Name] = s.rel(x.Path)
		}
	}
	return nc
}

// RelCacheEntries are cache_from (export false) or cache_to entries with their local
// directories relative to s.Dir, slash-separated: how the plan and validate --json show
// them, with no absolute path. Never nil.
func (s *Spec) RelCacheEntries(entries []string, export bool) []string {
	out := []string{}
	for _, e := range entries {
		r, err := CacheEntryPaths(e, export, s.rel)
		if err != nil {
			r = e // Load checked every entry: only a hand-made Spec gets here
		}
		out = append(out, r)
	}
	return out
}

// rel makes an absolute path relative to s.Dir, with forward slashes; "" stays "".
func (s *Spec) rel(p string) string {
	if p == "" {
		return ""
	}
	r, err := filepath.Rel(s.Dir, p)
	if err != nil {
		return filepath.ToSlash(p)
	}
	return filepath.ToSlash(r)
}

// list and dict turn nil into empty, so JSON shows [] and {} rather than null.
func list(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

func dict(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
