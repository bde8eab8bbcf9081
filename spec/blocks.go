package spec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
)

type proxyBody struct {
	HTTPProxy  string   `hcl:"http_proxy,optional"`
	HTTPSProxy string   `hcl:"https_proxy,optional"`
	AllProxy   string   `hcl:"all_proxy,optional"`
	NoProxy    []string `hcl:"no_proxy,optional"`
}

type registryBody struct {
	Mirrors     []string `hcl:"mirrors,optional"`
	HTTP        bool     `hcl:"http,optional"`
	Insecure    bool     `hcl:"insecure,optional"`
	CA          string   `hcl:"ca,optional"`
	MirrorsOnly bool     `hcl:"mirrors_only,optional"`
}

type builderBody struct {
	Address    string   `hcl:"address,optional"`
	Platforms  []string `hcl:"platforms,optional"`
	CACert     string   `hcl:"ca_cert,optional"`
	Cert       string   `hcl:"cert,optional"`
	Key        string   `hcl:"key,optional"`
	ServerName string   `hcl:"server_name,optional"`
	// MaxParallel is a pointer so that 0, written, is an error rather than the default.
	MaxParallel *int `hcl:"max_parallel,optional"`
	Required    bool `hcl:"required,optional"`
}

// hasErrorAt says whether diags already hold an error about rng (a value that did not
// decode), so a check of the decoded value does not report it twice.
func hasErrorAt(diags hcl.Diagnostics, rng hcl.Range) bool {
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil && *d.Subject == rng {
			return true
		}
	}
	return false
}

// topPlatforms evaluates the top-level platforms attribute.
func (e *evaluator) topPlatforms(a *hcl.Attribute) ([]string, hcl.Diagnostics) {
	if a == nil {
		return []string{DefaultPlatform}, nil
	}
	var diags hcl.Diagnostics
	if !e.refsOK(a.Expr, &diags, false) {
		return nil, diags
	}
	var list []string
	diags = append(diags, gohcl.DecodeExpression(a.Expr, e.ctx, &list)...)
	if diags.HasErrors() {
		return nil, diags
	}
	out, d := normalizePlatforms(list, a.Expr)
	return out, append(diags, d...)
}

func (e *evaluator) proxy(b *mergedBlock) (*Proxy, hcl.Diagnostics) {
	var raw proxyBody
	diags := e.decode(b, &raw)
	p := &Proxy{HTTPProxy: raw.HTTPProxy, HTTPSProxy: raw.HTTPSProxy, AllProxy: raw.AllProxy,
		NoProxy: raw.NoProxy, Range: b.DefRange}
	for _, f := range [][2]string{{"all_proxy", raw.AllProxy}, {"http_proxy", raw.HTTPProxy}, {"https_proxy", raw.HTTPSProxy}} {
		if f[1] == "" {
			continue
		}
		if err := checkProxyURL(f[1]); err != nil {
			// The message names the attribute, never the URL: it may hold a password.
			diags = append(diags, errorAt(attr(b, f[0]).Expr.Range(), "Invalid proxy URL", "%s: %v.", f[0], err))
		}
	}
	for i, np := range raw.NoProxy {
		if np == "" {
			diags = append(diags, errorAt(elemRange(attr(b, "no_proxy").Expr, i), "Invalid no_proxy entry",
				"An entry of no_proxy is empty; use host names, domains (.internal), IPs or CIDRs."))
		}
	}
	return p, diags
}

func (e *evaluator) registry(b *mergedBlock) (Registry, hcl.Diagnostics) {
	var raw registryBody
	diags := e.decode(b, &raw)
	r := Registry{Host: b.Name(), HTTP: raw.HTTP, Insecure: raw.Insecure, MirrorsOnly: raw.MirrorsOnly, Range: b.DefRange}
	if err := checkRegistryLabel(r.Host); err != nil {
		diags = append(diags, errorAt(b.LabelRange, "Invalid registry host", "registry %q: %v.", r.Host, err))
	}
	for i, m := range raw.Mirrors {
		norm, err := checkMirror(m)
		if err != nil {
			diags = append(diags, errorAt(elemRange(attr(b, "mirrors").Expr, i), "Invalid mirror URL", "%q: %v.", RedactURL(m), err))
			continue
		}
		r.Mirrors = append(r.Mirrors, norm)
	}
	if raw.MirrorsOnly && len(raw.Mirrors) == 0 && attr(b, "mirrors_only") != nil {
		diags = append(diags, errorAt(attr(b, "mirrors_only").Expr.Range(), "No mirrors",
			"mirrors_only = true needs at least one entry in mirrors."))
	}
	if raw.CA != "" {
		a := attr(b, "ca")
		r.CA = e.path(a.Expr.Range(), raw.CA)
		if d := checkExists(r.CA, false, a.Expr.Range(), "CA file"); d != nil {
			diags = append(diags, d)
		}
	}
	return r, diags
}

func (e *evaluator) builder(b *mergedBlock) (Builder, hcl.Diagnostics) {
	var raw builderBody
	diags := e.decode(b, &raw)
	bl := Builder{Name: b.Name(), Address: raw.Address, ServerName: raw.ServerName, Required: raw.Required, Range: b.DefRange}
	if a := attr(b, "max_parallel"); raw.MaxParallel != nil && !hasErrorAt(diags, a.Expr.Range()) {
		if *raw.MaxParallel < 1 {
			diags = append(diags, errorAt(attr(b, "max_parallel").Expr.Range(), "Invalid max_parallel",
				"builder %q: max_parallel is the number of solves run at once on it, at least 1 (default %d).", bl.Name, DefaultMaxParallel))
		} else {
			bl.MaxParallel = *raw.MaxParallel
		}
	}
	if raw.Address != "" {
		if err := checkBuilderAddress(raw.Address); err != nil {
			diags = append(diags, errorAt(attr(b, "address").Expr.Range(), "Invalid builder address", "%q: %v.", raw.Address, err))
		}
	}
	if a := attr(b, "platforms"); a != nil && raw.Platforms != nil {
		p, d := normalizePlatforms(raw.Platforms, a.Expr)
		bl.Platforms, diags = p, append(diags, d...)
	}
	for _, f := range []struct {
		name string
		val  string
		dst  *string
	}{{"ca_cert", raw.CACert, &bl.CACert}, {"cert", raw.Cert, &bl.Cert}, {"key", raw.Key, &bl.Key}} {
		if f.val == "" {
			continue
		}
		a := attr(b, f.name)
		*f.dst = e.path(a.Expr.Range(), f.val)
		if d := checkExists(*f.dst, false, a.Expr.Range(), f.name+" file"); d != nil {
			diags = append(diags, d)
		}
	}
	if (bl.Cert == "") != (bl.Key == "") && !diags.HasErrors() {
		diags = append(diags, errorAt(b.DefRange, "Incomplete client certificate",
			"builder %q: cert and key go together; set both or neither.", bl.Name))
	}
	return bl, diags
}
