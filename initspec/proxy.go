package initspec

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// credentialVar is the variable that holds the first proxy credentials found; a second,
// different user:password gets _2, and so on.
const credentialVar = "PROXY_CREDENTIALS"

// placeholderCredentials stand in for the credentials while the spec is validated.
const placeholderCredentials = "user:password"

func redact(u string) string { return spec.RedactURL(u) }

// proxy writes the proxy block from the first place that sets a proxy (daemon.json,
// config.json, the environment), the others being reported as not used. It returns the
// proxy with its real URLs, for the probes.
func (g *generator) proxy(cands []proxySettings) *spec.Proxy {
	var chosen *proxySettings
	for i := range cands {
		c := &cands[i]
		if c.empty() {
			continue
		}
		if chosen != nil {
			g.note("proxy", c.Source, "also set, not used ("+chosen.Source+" comes first)")
			continue
		}
		chosen = c
	}
	if chosen == nil {
		return nil
	}
	px := &spec.Proxy{HTTPProxy: withScheme(chosen.HTTP), HTTPSProxy: withScheme(chosen.HTTPS), AllProxy: withScheme(chosen.All)}
	for _, np := range strings.Split(chosen.NoProxy, ",") {
		if np = strings.TrimSpace(np); np != "" {
			px.NoProxy = append(px.NoProxy, np)
		}
	}
	body := g.proxyS.Body()
	comment(body, "From "+sourceName(chosen.Source)+". archc's registry requests and the builds' RUN steps",
		"go through it; the environment's proxy is not used.")
	block := body.AppendNewBlock("proxy", nil).Body()
	creds := map[string]string{} // userinfo → variable name
	for _, f := range []struct{ name, val string }{{"http_proxy", px.HTTPProxy}, {"https_proxy", px.HTTPSProxy}, {"all_proxy", px.AllProxy}} {
		if f.val == "" {
			continue
		}
		tokens, detail, err := g.proxyURL(f.val, creds)
		if err != nil {
			g.note("proxy "+f.name, chosen.Source, err.Error())
			comment(block, f.name+": "+err.Error())
			continue
		}
		block.SetAttributeRaw(f.name, tokens)
		g.note("proxy "+f.name, chosen.Source, detail)
	}
	if len(px.NoProxy) > 0 {
		block.SetAttributeValue("no_proxy", stringList(px.NoProxy))
		g.note("proxy no_proxy", chosen.Source, strings.Join(px.NoProxy, ", "))
	}
	return px
}

// withScheme adds http:// to a scheme-less proxy, as Go's net/http reads one.
func withScheme(u string) string {
	if u != "" && !strings.Contains(u, "://") {
		return "http://" + u
	}
	return u
}

// sourceName is a source without its directory: the file shows no absolute paths.
func sourceName(src string) string {
	if i := strings.LastIndex(src, "/"); i >= 0 {
		return src[i+1:]
	}
	return src
}

// proxyURL returns the tokens of a proxy URL with its user-info replaced by a sensitive
// variable (declared once per distinct user-info), and what the report says about it.
func (g *generator) proxyURL(raw string, creds map[string]string) (hclwrite.Tokens, string, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		// The value is not shown: it may hold a password.
		return nil, "", fmt.Errorf("not a URL (left out; a password in it must be percent-encoded)")
	}
	if u.User == nil {
		return hclwrite.TokensForValue(cty.StringVal(u.String())), u.String(), nil
	}
	info := u.User.String()
	name, ok := creds[info]
	if !ok {
		name = credentialVar
		if n := len(creds); n > 0 {
			name = fmt.Sprintf("%s_%d", credentialVar, n+1)
		}
		creds[info] = name
		g.credentialVariable(name, u.Host)
	}
	u.User = nil
	rest := strings.TrimPrefix(u.String(), u.Scheme+"://")
	lit := quoteLiteral(rest)
	src := `"` + u.Scheme + "://${var." + name + "}@" + lit[1:]
	tokens, ok := templateTokens(src)
	if !ok {
		return nil, "", fmt.Errorf("cannot be written as a template (left out)")
	}
	return tokens, fmt.Sprintf("%s, credentials in variable %q", redact(raw), name), nil
}

// credentialVariable declares a sensitive variable with no default for the credentials of
// a proxy: the spec then cannot be used without them, and they never appear in a view.
func (g *generator) credentialVariable(name, host string) {
	body := g.vars.Body()
	if len(body.Blocks()) > 0 {
		body.AppendNewline()
	}
	comment(body, "The proxy's user:password (percent-encoded), kept out of this file: set",
		"ARCHC_VAR_"+name+" in the environment or pass --var "+name+"=... .")
	b := body.AppendNewBlock("variable", []string{name}).Body()
	b.SetAttributeValue("description", cty.StringVal("user:password for the proxy "+host))
	b.SetAttributeValue("sensitive", cty.True)
	g.placeholders[name] = placeholderCredentials
	g.note(fmt.Sprintf("variable %q", name), "the proxy URL", "sensitive, no default: set ARCHC_VAR_"+name)
}
