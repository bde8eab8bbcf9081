// Package spec owns archbuild.hcl: its schema, decoding with hcl/v2 and go-cty, variables,
// locals, functions, defaults and validation. It turns one or more HCL files into a Spec, a
// plain value with source ranges, and reports every problem at once as hcl.Diagnostics.
//
// It must not do I/O beyond reading the spec files and checking that the paths they name
// exist; it knows nothing of registries, LLB or BuildKit daemons.
package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Output kinds a component can produce.
const (
	OutputRegistry  = "registry"   // push every tag; a multi-platform index
	OutputOCI       = "oci"        // an OCI layout tarball at OutputPath
	OutputLocal     = "local"      // the result's files into OutputPath
	OutputCacheOnly = "cache-only" // build into the builder's cache, export nothing
	OutputDocker    = "docker"     // a docker-loadable tarball at OutputPath (or into a Docker engine)
)

// DefaultPlatform is used when neither the spec nor a component names platforms.
const DefaultPlatform = "linux/amd64"

// Spec is a fully evaluated, validated and normalized archbuild.hcl (possibly merged from
// several files). Every default is filled in; paths are absolute; components are in
// dependency order (a component comes after everything it depends on, ties by name).
type Spec struct {
	// Files are the spec files that were read, in the order given.
	Files []string
	// Dir is the absolute directory of the first spec file; relative paths in the spec
	// resolve against it, and views print paths relative to it.
	Dir string
	// Variables are the evaluated variables, sorted by name.
	Variables []Variable
	// Platforms is the top-level default platform list, normalized by containerd/platforms
	// ("linux/arm64", "linux/arm/v7"); ["linux/amd64"] when absent.
	Platforms []string
	// Proxy is the proxy block, or nil when there is none.
	Proxy *Proxy
	// Registries are the registry blocks, sorted by host.
	Registries []Registry
	// Builders are the builder blocks, sorted by name. Empty means: a local builder.
	Builders []Builder
	// Components are in dependency order.
	Components []Component
	// Secrets are the secret blocks, sorted by ID.
	Secrets []Secret
	// SSH are the ssh blocks, sorted by ID.
	SSH []SSH
	// BuildPlatforms are the platforms the spec's builders run `FROM --platform=$BUILDPLATFORM`
	// stages on (build_platforms), normalized; `archc lock` pins bases for each of them. Empty
	// means this machine's platform.
	BuildPlatforms []string
}

// Secret is one secret block: where archc reads the value it serves to builds through
// BuildKit's secrets session. Exactly one of Env and File is set. The value itself is never
// part of the Spec.
type Secret struct {
	ID string
	// Env is the name of the environment variable holding the value.
	Env string
	// File is the absolute path of the file holding the value.
	File  string
	Range hcl.Range
}

// SSH is one ssh block: the agent socket or keys archc forwards to `RUN --mount=type=ssh`
// steps through BuildKit's sshforward session.
type SSH struct {
	ID string
	// Paths are absolute paths of agent sockets or private keys; empty means the agent at
	// SSH_AUTH_SOCK.
	Paths []string
	Range hcl.Range
}

// Variable is one evaluated variable.
type Variable struct {
	Name        string
	Description string
	// Value is the final value after --var > ARCHC_VAR_NAME > default as it may be shown:
	// verbatim for strings, JSON for other types, URL credentials masked, "(sensitive)"
	// for a sensitive variable. Cty has the real value.
	Value string
	// Sensitive variables never have their value shown (validate --json, diagnostics).
	Sensitive bool
	// Type is the declared type constraint ("string", "list(string)", ...), or the type
	// of the default when none is declared.
	Type string
	// Cty is the typed value.
	Cty cty.Value
	// Source says where Value came from: "default", "env" or "flag".
	Source string
	// Raw is the value as given with --var or ARCHC_VAR_NAME (Source "flag" or "env"),
	// before conversion to Type; "" for a default. It may be a secret: never show it.
	Raw   string
	Range hcl.Range
}

// OutsideVars are the values of the variables set from outside (--var or ARCHC_VAR_NAME),
// by name, as given: what makes the spec evaluate the same way again.
func (s *Spec) OutsideVars() map[string]string {
	out := map[string]string{}
	for _, v := range s.Variables {
		if v.Source == SourceFlag || v.Source == SourceEnv {
			out[v.Name] = v.Raw
		}
	}
	return out
}

// Proxy is the proxy block, the one proxy type: the spec's, the plan's and the plan JSON's
// (its JSON form). URLs may carry credentials (user:password@); anything shown, logged or
// written uses Proxy.Redacted.
type Proxy struct {
	HTTPProxy  string    `json:"http_proxy,omitempty"`
	HTTPSProxy string    `json:"https_proxy,omitempty"`
	AllProxy   string    `json:"all_proxy,omitempty"`
	NoProxy    []string  `json:"no_proxy,omitempty"`
	Range      hcl.Range `json:"-"`
}

// Registry configures one registry host: its mirrors and how to talk to it.
type Registry struct {
	// Host is "host[:port]" as written, e.g. "docker.io" or "nexus.internal:8082".
	Host string
	// Mirrors are absolute URLs ("https://mirror.example.net", "http://127.0.0.1:5000/path"),
	// tried in order before the registry itself.
	Mirrors []string
	// HTTP means the registry speaks plain HTTP.
	HTTP bool
	// Insecure means TLS without certificate verification.
	Insecure bool
	// CA is the absolute path of a PEM file of extra root CAs, or "".
	CA string
	// MirrorsOnly means never fall back to the registry itself.
	MirrorsOnly bool
	Range       hcl.Range
}

// Builder is a BuildKit daemon archc may use.
type Builder struct {
	Name string
	// Address is unix://, tcp://, ssh://, docker-container:// or kube-pod://; "" means archc starts
	// and manages a local buildkitd.
	Address string
	// Platforms this builder serves natively; empty means whatever its workers report.
	Platforms []string
	// TLS for tcp:// addresses; absolute paths or "".
	CACert     string
	Cert       string
	Key        string
	ServerName string
	// MaxParallel bounds the solves archc runs on this builder at once (max_parallel);
	// 0 means the default (DefaultMaxParallel).
	MaxParallel int
	// Required makes a builder that is down fail the run (required = true) instead of
	// having its work go to the other builders that can run its platforms.
	Required bool
	Range    hcl.Range
}

// DefaultMaxParallel is a builder's max_parallel when the spec does not set it.
const DefaultMaxParallel = 4

// Parallel is the builder's effective max_parallel: its own, else DefaultMaxParallel.
func (b *Builder) Parallel() int {
	if b.MaxParallel > 0 {
		return b.MaxParallel
	}
	return DefaultMaxParallel
}

// Component is one image to build.
type Component struct {
	Name string
	// Context is the absolute path of the build context directory.
	Context string
	// Dockerfile is the absolute path of the Dockerfile (default: Context/Dockerfile).
	Dockerfile string
	Target     string
	Args       map[string]string
	Labels     map[string]string
	Tags       []string
	// Platforms are normalized platform strings (default: the top-level Platforms).
	Platforms []string
	// Contexts are named build contexts, sorted by name.
	Contexts []NamedContext
	// Output is one of the Output* constants: OutputRegistry when Tags are set, else
	// OutputCacheOnly.
	Output string
	// OutputPath is the absolute destination for "oci" and "local" outputs, else "".
	OutputPath string
	// DependsOn are the names of the components this one needs: those named in depends_on
	// and those used in contexts, sorted, without duplicates.
	DependsOn []string
	// PlatformArgs are the build args per target platform (normalized), for args that use
	// `platform.os`, `platform.arch` or `platform.variant`; an arg set to null is left out
	// (the Dockerfile's default). Use ArgsFor.
	PlatformArgs map[string]map[string]string
	// Secrets and SSH are the ids of the secret and ssh blocks this component's builds may
	// mount (secrets, ssh); nothing else is served to them.
	Secrets []string
	SSH     []string
	// Allow are the entitlements its solves are granted ("network.host", "security.insecure").
	Allow []string
	// ExtraHosts map host names to IP addresses in the builds' /etc/hosts (extra_hosts).
	ExtraHosts map[string]string
	// Network is the RUN steps' default network mode: "" or "default", "none", "host".
	Network string
	// ShmSize is the size of /dev/shm in RUN steps, as bake writes it ("128m"); "" is
	// BuildKit's default.
	ShmSize string
	// Ulimits are RUN steps' ulimits, as bake writes them ("nofile=1024:2048").
	Ulimits []string
	// NoCache builds every step again (no_cache); NoCacheFilter only these stages.
	NoCache       bool
	NoCacheFilter []string
	// Builder pins the component to the builder of that name (builder = "NAME"); "" lets
	// archc choose among the builders that can run each platform.
	Builder string
	// CacheFrom and CacheTo are BuildKit cache imports and exports in buildx's CSV form
	// ("type=registry,ref=REF,mode=max", "type=local,dest=DIR"): the component's own, else
	// the spec's top-level defaults. Local paths (src, dest) are absolute.
	CacheFrom []string
	CacheTo   []string
	// SourceDateEpoch is the epoch of its reproducible images, in seconds since 1970
	// (source_date_epoch: the component's own, else the top-level one; "git" read at load);
	// nil when neither is set.
	SourceDateEpoch *int64
	// Attest are the attestations of its images (attest blocks, over the top-level one).
	Attest Attest
	// Annotations go on its images, index and manifests (annotations), sorted by String.
	Annotations []Annotation
	Range       hcl.Range
}

// NamedContext is one entry of a component's contexts map. Exactly one of Component, Path
// and Image is set.
type NamedContext struct {
	Name string
	// Component is the name of another component whose result (same platform) is used.
	Component string
	// Path is an absolute local directory.
	Path string
	// Image is an image reference, written as docker-image://REF in the spec; stored
	// without the scheme.
	Image string
	Range hcl.Range
}

// Component returns the component with the given name, or nil.
func (s *Spec) Component(name string) *Component {
	for i := range s.Components {
		if s.Components[i].Name == name {
			return &s.Components[i]
		}
	}
	return nil
}

// Registry returns the registry block for host, or nil.
func (s *Spec) Registry(host string) *Registry {
	for i := range s.Registries {
		if s.Registries[i].Host == host {
			return &s.Registries[i]
		}
	}
	return nil
}

// ArgsFor returns the component's build args for target platform p: PlatformArgs[p] when
// the spec evaluated args per platform, else Args.
func (c *Component) ArgsFor(p string) map[string]string {
	if a, ok := c.PlatformArgs[NormalizePlatform(p)]; ok {
		return a
	}
	return c.Args
}
