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
	Builders   map[string]NormalizedBuilder  `json:"builders"`
	Components []NormalizedComponent         `json:"components"`
	Files      []string                      `json:"files"`
	Platforms  []string                      `json:"platforms"`
	Proxy      map[string]any                `json:"proxy"`
	Registries map[string]NormalizedRegistry `json:"registries"`
	Variables  map[string]NormalizedVariable `json:"variables"`
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
	Address    string   `json:"address"`
	CACert     string   `json:"ca_cert"`
	Cert       string   `json:"cert"`
	Key        string   `json:"key"`
	Platforms  []string `json:"platforms"`
	ServerName string   `json:"server_name"`
}

// NormalizedComponent is one component with its defaults filled in.
type NormalizedComponent struct {
	Args       map[string]string `json:"args"`
	Context    string            `json:"context"`
	Contexts   map[string]string `json:"contexts"`
	DependsOn  []string          `json:"depends_on"`
	Dockerfile string            `json:"dockerfile"`
	Labels     map[string]string `json:"labels"`
	Name       string            `json:"name"`
	Output     string            `json:"output"`
	OutputPath string            `json:"output_path"`
	Platforms  []string          `json:"platforms"`
	Tags       []string          `json:"tags"`
	Target     string            `json:"target"`
}

// Normalized returns the JSON view of s.
func (s *Spec) Normalized() Normalized {
	n := Normalized{
		Builders:   map[string]NormalizedBuilder{},
		Components: []NormalizedComponent{},
		Platforms:  list(s.Platforms),
		Registries: map[string]NormalizedRegistry{},
		Variables:  map[string]NormalizedVariable{},
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
			Key: s.rel(b.Key), Platforms: list(b.Platforms), ServerName: b.ServerName}
	}
	for _, c := range s.Components {
		n.Components = append(n.Components, s.normalizedComponent(c))
	}
	return n
}

func (s *Spec) normalizedComponent(c Component) NormalizedComponent {
	nc := NormalizedComponent{
		Args: dict(c.Args), Context: s.rel(c.Context), Contexts: map[string]string{},
		DependsOn: list(c.DependsOn), Dockerfile: s.rel(c.Dockerfile), Labels: dict(c.Labels),
		Name: c.Name, Output: c.Output, OutputPath: s.rel(c.OutputPath), Platforms: list(c.Platforms),
		Tags: list(c.Tags), Target: c.Target,
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
