package solver

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/util/resolver/config"
	toml "github.com/pelletier/go-toml/v2"
)

// buildkitdRegistry is config.RegistryConfig with empty fields left out of the file.
type buildkitdRegistry struct {
	Mirrors      []string            `toml:"mirrors,omitempty"`
	PlainHTTP    *bool               `toml:"http,omitempty"`
	Insecure     *bool               `toml:"insecure,omitempty"`
	RootCAs      []string            `toml:"ca,omitempty"`
	KeyPairs     []config.TLSKeyPair `toml:"keypair,omitempty"`
	TLSConfigDir []string            `toml:"tlsconfigdir,omitempty"`
}

// RenderBuildkitdConfig renders buildkitd.toml from the spec: the [registry."host"]
// blocks of registry.RegistryConfig (so the daemon and archc's own resolver agree on
// mirrors, http, insecure and CA), preceded by comments saying how the daemon gets the
// proxy (its environment; see DaemonProxyEnv). The output is deterministic: sorted hosts,
// no timestamps; proxy credentials are redacted.
func RenderBuildkitdConfig(s *spec.Spec) ([]byte, error) {
	reg, err := registry.RegistryConfig(s)
	if err != nil {
		return nil, err
	}
	out, err := renderLocalBuildkitd(s, reg)
	if err != nil {
		return nil, err
	}
	var note bytes.Buffer
	for _, r := range s.Registries {
		if r.MirrorsOnly {
			fmt.Fprintf(&note, "# %s is mirrors_only: BuildKit has no such setting, but the daemon pulls no base\n", r.Host)
			fmt.Fprintf(&note, "# image: archc fetches them through the mirrors only and serves them from its cache.\n")
		}
	}
	for _, n := range registry.MirrorSettingNotes(s) {
		fmt.Fprintf(&note, "# Note: %s.\n", n)
	}
	if note.Len() == 0 {
		return out, nil
	}
	i := bytes.Index(out, []byte("\n\n"))
	return append(append(append([]byte{}, out[:i+1]...), note.Bytes()...), out[i+1:]...), nil
}

// renderLocalBuildkitd renders the buildkitd.toml archc starts its local builders with:
// s's registry configuration reg, its proxy note and the entitlements its components allow.
func renderLocalBuildkitd(s *spec.Spec, reg map[string]config.RegistryConfig) ([]byte, error) {
	return renderBuildkitd(reg, s.Proxy, SpecEntitlements(s))
}

// renderBuildkitd renders buildkitd.toml: the comment header, insecure-entitlements when
// ents is not empty (a top-level key: it must come before the tables) and the registry
// blocks.
func renderBuildkitd(reg map[string]config.RegistryConfig, proxy *spec.Proxy, ents []string) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# buildkitd.toml rendered by `archc builder config` from the spec. Do not edit:\n")
	b.WriteString("# archc re-renders it and restarts its local builder when the spec changes.\n#\n")
	writeProxyComment(&b, proxy)
	if err := writeEntitlements(&b, ents); err != nil {
		return nil, err
	}
	if len(reg) == 0 {
		b.WriteString("\n# No registry blocks in the spec: BuildKit's defaults apply.\n")
		return b.Bytes(), nil
	}
	body, err := encodeRegistries(reg)
	if err != nil {
		return nil, err
	}
	b.WriteString("\n")
	b.Write(body)
	return b.Bytes(), nil
}

// encodeRegistries encodes reg as buildkitd.toml's [registry] table: hosts sorted, each
// host's table indented under it, empty fields left out.
func encodeRegistries(reg map[string]config.RegistryConfig) ([]byte, error) {
	out := struct {
		Registry map[string]buildkitdRegistry `toml:"registry"`
	}{Registry: map[string]buildkitdRegistry{}}
	for host, c := range reg {
		out.Registry[host] = buildkitdRegistry(c)
	}
	var body bytes.Buffer
	enc := toml.NewEncoder(&body)
	enc.SetIndentTables(true)
	if err := enc.Encode(out); err != nil {
		return nil, fmt.Errorf("render buildkitd.toml: %w", err)
	}
	return body.Bytes(), nil
}

// RegistryBlock is host's [registry."host"] table with settings c, exactly as
// RenderBuildkitdConfig writes it (indented, without the [registry] line and the
// trailing newline): what a node's own buildkitd.toml needs to reach host as the spec
// says.
func RegistryBlock(host string, c config.RegistryConfig) (string, error) {
	body, err := encodeRegistries(map[string]config.RegistryConfig{host: c})
	if err != nil {
		return "", err
	}
	_, block, _ := strings.Cut(string(body), "\n")
	return strings.TrimRight(block, "\n"), nil
}

func writeProxyComment(b *bytes.Buffer, proxy *spec.Proxy) {
	env := DaemonProxyEnv(proxy)
	if len(env) == 0 {
		b.WriteString("# Proxy: the spec has no proxy block, so archc starts buildkitd without proxy\n")
		b.WriteString("# variables and the daemon connects to registries directly.\n")
		return
	}
	b.WriteString("# Proxy: buildkitd has no proxy setting in this file; it reads HTTP_PROXY, HTTPS_PROXY\n")
	b.WriteString("# and NO_PROXY from its environment. archc sets them from the spec's proxy block when\n")
	b.WriteString("# it starts the local daemon; a daemon you run yourself needs them in its environment:\n")
	for _, kv := range env {
		b.WriteString("#   " + registry.Redact(kv) + "\n")
	}
	b.WriteString("# Loopback mirrors are never proxied (Go's proxy rules), whatever NO_PROXY says.\n")
}

// DaemonProxyEnv is the environment ("NAME=value", sorted, credentials intact) that gives
// buildkitd the spec's proxy; nil without a proxy block. Both spellings are set because
// tools run by the daemon differ in which they read.
func DaemonProxyEnv(p *spec.Proxy) []string {
	if p == nil {
		return nil
	}
	var env []string
	add := func(name, v string) {
		if v != "" {
			env = append(env, name+"="+v, strings.ToLower(name)+"="+v)
		}
	}
	add("ALL_PROXY", p.AllProxy)
	add("HTTPS_PROXY", p.HTTPSProxy)
	add("HTTP_PROXY", p.HTTPProxy)
	add("NO_PROXY", strings.Join(p.NoProxy, ","))
	return env
}

// SpecEntitlements are the entitlements any component of s allows (allow), sorted and
// without duplicates; nil for none. The local builder's daemon allows these
// (insecure-entitlements): BuildKit refuses a solve that asks for an entitlement its
// daemon does not allow, whatever the client says.
func SpecEntitlements(s *spec.Spec) []string {
	var out []string
	for _, c := range s.Components {
		for _, e := range c.Allow {
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
	}
	slices.Sort(out)
	return out
}

// writeEntitlements writes the insecure-entitlements key, with a comment saying who
// gets them; nothing for none.
func writeEntitlements(b *bytes.Buffer, ents []string) error {
	if len(ents) == 0 {
		return nil
	}
	dt, err := toml.Marshal(struct {
		Entitlements []string `toml:"insecure-entitlements"`
	}{ents})
	if err != nil {
		return fmt.Errorf("render buildkitd.toml: %w", err)
	}
	b.WriteString("\n# Entitlements the spec's components allow (allow = [...]). Each solve is granted only\n")
	b.WriteString("# those its steps use, and archc refuses a plan whose steps need one their component\n")
	b.WriteString("# does not allow.\n")
	b.Write(dt)
	return nil
}
