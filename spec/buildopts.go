package spec

import (
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"

	units "github.com/docker/go-units"
	"github.com/hashicorp/hcl/v2"
)

// Entitlements a component may be granted (allow), as BuildKit names them.
const (
	EntitlementNetworkHost      = "network.host"
	EntitlementSecurityInsecure = "security.insecure"
)

// Network modes of a component's RUN steps (network).
const (
	NetworkDefault = "default"
	NetworkNone    = "none"
	NetworkHost    = "host"
)

// componentBuildOpts fills what a component's RUN steps get: secrets, ssh, allow,
// extra_hosts, network, shm_size, ulimits, no_cache and no_cache_filter.
func (e *evaluator) componentBuildOpts(b *mergedBlock, raw componentBody, defaults componentDefaults, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	c.Secrets, diags = declaredIDs(b, "secrets", "secret", raw.Secrets, defaults.Secrets)
	var d hcl.Diagnostics
	c.SSH, d = declaredIDs(b, "ssh", "ssh", raw.SSH, defaults.SSH)
	diags = append(diags, d...)
	diags = append(diags, componentAllow(b, raw, c)...)
	diags = append(diags, componentExtraHosts(b, raw, c)...)
	if raw.ShmSize != "" {
		a := attr(b, "shm_size")
		if n, err := units.RAMInBytes(raw.ShmSize); err != nil || n <= 0 {
			diags = append(diags, errorAt(a.Expr.Range(), "Invalid shm_size",
				"shm_size %q is not a size such as \"64m\" or \"1g\" (bytes when no unit is given), greater than 0.", raw.ShmSize))
		} else {
			c.ShmSize = raw.ShmSize
		}
	}
	diags = append(diags, componentUlimits(b, raw, c)...)
	c.NoCache = raw.NoCache
	for i, s := range raw.NoCacheFilter {
		if strings.TrimSpace(s) == "" {
			diags = append(diags, errorAt(elemRange(attr(b, "no_cache_filter").Expr, i), "Empty stage name",
				"no_cache_filter lists Dockerfile stage names (FROM ... AS NAME); an entry is empty."))
			continue
		}
		if !slices.Contains(c.NoCacheFilter, s) {
			c.NoCacheFilter = append(c.NoCacheFilter, s)
		}
	}
	return diags
}

// declaredIDs checks that every id of a component's secrets or ssh list names a block of
// that type, and returns them sorted, without duplicates. A component gets only the ids it
// lists: a build step that needs one it does not list is a plan error, not a silent mount.
func declaredIDs(b *mergedBlock, name, blockType string, ids []string, declared map[string]bool) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	set := map[string]bool{}
	for i, id := range ids {
		if declared[id] {
			set[id] = true
			continue
		}
		detail := fmt.Sprintf("There is no %s block %q; %s names the spec's %s blocks, e.g. %s %q { ... } at the top level.",
			blockType, id, name, blockType, blockType, id)
		if s := Suggest(id, declared); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undefined " + blockType,
			Detail: detail, Subject: elemRange(attr(b, name).Expr, i).Ptr()})
	}
	if len(set) == 0 {
		return nil, diags
	}
	return slices.Sorted(maps.Keys(set)), diags
}

// componentAllow checks allow and network: network = "host" needs the network.host
// entitlement, which the spec must grant in writing.
func componentAllow(b *mergedBlock, raw componentBody, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	known := map[string]bool{EntitlementNetworkHost: true, EntitlementSecurityInsecure: true}
	set := map[string]bool{}
	for i, ent := range raw.Allow {
		if known[ent] {
			set[ent] = true
			continue
		}
		detail := fmt.Sprintf("%q is not an entitlement archc grants; use %q or %q.", ent, EntitlementNetworkHost, EntitlementSecurityInsecure)
		if s := Suggest(ent, known); s != "" {
			detail += fmt.Sprintf(" Did you mean %q?", s)
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid entitlement",
			Detail: detail, Subject: elemRange(attr(b, "allow").Expr, i).Ptr()})
	}
	if len(set) > 0 {
		c.Allow = slices.Sorted(maps.Keys(set))
	}
	a := attr(b, "network")
	if a == nil || hasErrorAt(diags, a.Expr.Range()) {
		return diags
	}
	switch raw.Network {
	case NetworkDefault, NetworkNone:
		c.Network = raw.Network
	case NetworkHost:
		c.Network = raw.Network
		if !set[EntitlementNetworkHost] {
			diags = append(diags, errorAt(a.Expr.Range(), "Entitlement not allowed",
				"component %q: network = \"host\" needs the network.host entitlement; add allow = [\"network.host\"] to the component.", c.Name))
		}
	default:
		diags = append(diags, errorAt(a.Expr.Range(), "Invalid network",
			"component %q: network %q is not one of default, none, host.", c.Name, raw.Network))
	}
	return diags
}

// componentExtraHosts checks extra_hosts: host names to one IP address each, as in
// /etc/hosts.
func componentExtraHosts(b *mergedBlock, raw componentBody, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, host := range slices.Sorted(maps.Keys(raw.ExtraHosts)) {
		ip := raw.ExtraHosts[host]
		rng := keyRange(attr(b, "extra_hosts").Expr, host)
		switch {
		case host == "" || strings.ContainsAny(host, " \t\r\n#"):
			diags = append(diags, errorAt(rng, "Invalid extra_hosts entry", "extra_hosts: %q is not a host name.", host))
		case net.ParseIP(ip) == nil:
			detail := fmt.Sprintf("extra_hosts[%q]: %q is not an IP address.", host, ip)
			if ip == "host-gateway" {
				detail += " host-gateway is a Docker engine value BuildKit does not know; write the host's IP address."
			}
			diags = append(diags, errorAt(rng, "Invalid extra_hosts entry", "%s", detail))
		default:
			if c.ExtraHosts == nil {
				c.ExtraHosts = map[string]string{}
			}
			c.ExtraHosts[host] = ip
		}
	}
	return diags
}

// componentUlimits checks ulimits as bake writes them (name=soft[:hard]), each name once.
func componentUlimits(b *mergedBlock, raw componentBody, c *Component) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]bool{}
	for i, s := range raw.Ulimits {
		rng := elemRange(attr(b, "ulimits").Expr, i)
		u, err := units.ParseUlimit(s)
		if err != nil {
			diags = append(diags, errorAt(rng, "Invalid ulimit", "%q: %v. Write name=soft[:hard], e.g. \"nofile=1024:2048\".", s, err))
			continue
		}
		if seen[u.Name] {
			diags = append(diags, errorAt(rng, "Duplicate ulimit", "ulimits sets %s more than once.", u.Name))
			continue
		}
		seen[u.Name] = true
		c.Ulimits = append(c.Ulimits, s)
	}
	return diags
}
