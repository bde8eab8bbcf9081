package spec

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/containerd/platforms"
	"github.com/distribution/reference"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// errorAt builds an error diagnostic.
func errorAt(rng hcl.Range, summary, format string, args ...any) *hcl.Diagnostic {
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	}
}

// elemRange is the range of element i of a list literal, else the whole expression's.
func elemRange(expr hcl.Expression, i int) hcl.Range {
	if tup, ok := expr.(*hclsyntax.TupleConsExpr); ok && i >= 0 && i < len(tup.Exprs) {
		return tup.Exprs[i].Range()
	}
	return expr.Range()
}

// keyRange is the range of the value under key in an object literal, else the whole
// expression's.
func keyRange(expr hcl.Expression, key string) hcl.Range {
	if obj, ok := expr.(*hclsyntax.ObjectConsExpr); ok {
		for _, item := range obj.Items {
			k, diags := item.KeyExpr.Value(nil)
			if !diags.HasErrors() && k.IsKnown() && !k.IsNull() && k.Type() == cty.String && k.AsString() == key {
				return item.ValueExpr.Range()
			}
		}
	}
	return expr.Range()
}

// normalizePlatforms parses and normalizes a platform list attribute. A platform must
// name at least os/arch: a bare "arm64" would silently take the host's OS.
func normalizePlatforms(list []string, expr hcl.Expression) ([]string, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if len(list) == 0 {
		return nil, hcl.Diagnostics{errorAt(expr.Range(), "Empty platform list",
			"platforms needs at least one entry such as \"linux/amd64\"; remove the attribute to use the default.")}
	}
	seen := map[string]bool{}
	var out []string
	for i, s := range list {
		p, err := platforms.Parse(s)
		if err == nil && !strings.Contains(s, "/") {
			err = fmt.Errorf("%q names no OS", s)
		}
		if err != nil {
			diags = append(diags, errorAt(elemRange(expr, i), "Invalid platform",
				"Cannot parse platform %q: %v. Write os/arch[/variant], e.g. \"linux/arm64\" or \"linux/arm/v7\".", s, err))
			continue
		}
		p = platforms.Normalize(p)
		if !knownOS[p.OS] || !knownArch[p.Architecture] {
			diags = append(diags, errorAt(elemRange(expr, i), "Invalid platform",
				"Unknown OS or architecture in %q (e.g. linux, windows; amd64, arm64, arm, riscv64, s390x, ppc64le).", s))
			continue
		}
		norm := platforms.Format(p)
		if !seen[norm] {
			seen[norm] = true
			out = append(out, norm)
		}
	}
	return out, diags
}

// knownOS and knownArch are the OS and architecture names (after containerd's
// normalization: x86_64 is amd64, aarch64 is arm64) that image indexes use.
var (
	knownOS = map[string]bool{"linux": true, "windows": true, "darwin": true, "freebsd": true,
		"netbsd": true, "openbsd": true, "solaris": true, "illumos": true, "aix": true, "plan9": true}
	knownArch = map[string]bool{"amd64": true, "386": true, "arm": true, "arm64": true, "ppc64le": true,
		"ppc64": true, "s390x": true, "riscv64": true, "mips": true, "mipsle": true, "mips64": true,
		"mips64le": true, "loong64": true, "wasm": true}
)

// checkHost validates a registry host name: "host[:port]", no scheme, no path.
func checkHost(host string) error {
	if host == "" {
		return fmt.Errorf("empty host")
	}
	if strings.Contains(host, "://") {
		return fmt.Errorf("a registry host has no scheme; write %q and use http = true for plain HTTP",
			host[strings.Index(host, "://")+3:])
	}
	if strings.ContainsAny(host, "/?#@ \t") {
		return fmt.Errorf("a registry host is host[:port] without path, user or spaces")
	}
	name, port := host, ""
	if h, p, err := net.SplitHostPort(host); err == nil {
		name, port = h, p
	} else if strings.Count(host, ":") == 1 || strings.HasPrefix(host, "[") {
		return fmt.Errorf("cannot split host and port: %v", err)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not a number from 1 to 65535", port)
		}
	}
	if net.ParseIP(name) != nil {
		return nil
	}
	return checkHostname(name)
}

// dockerHubAliases are names of Docker Hub that image references never keep: the reference
// parser turns index.docker.io into docker.io. (registry-1.docker.io stays as written, so a
// block for it applies to references that name it.)
var dockerHubAliases = map[string]bool{"index.docker.io": true}

// checkRegistryLabel validates a registry block's label: a host as image references name
// it, since the block applies only to references naming exactly that host.
func checkRegistryLabel(host string) error {
	if err := checkHost(host); err != nil {
		return err
	}
	if lower := strings.ToLower(host); lower != host {
		return fmt.Errorf("image references name hosts in lowercase, so this block would never apply; write %q", lower)
	}
	if dockerHubAliases[host] {
		return fmt.Errorf("image references name Docker Hub docker.io (or nothing: busybox:1.36), so this block would never apply; write registry \"docker.io\"")
	}
	return nil
}

func checkHostname(name string) error {
	if len(name) > 253 {
		return fmt.Errorf("host name longer than 253 characters")
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 {
			return fmt.Errorf("host name %q has an empty or too long label", name)
		}
		for i, r := range label {
			ok := r == '-' && i > 0 && i < len(label)-1 ||
				r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
			if !ok {
				return fmt.Errorf("host name %q contains %q", name, r)
			}
		}
	}
	return nil
}

// checkMirror validates a mirror URL and returns it without a trailing slash.
func checkMirror(s string) (string, error) {
	if !strings.Contains(s, "://") {
		return "", errNoMirrorScheme(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", errNotURL // url.Parse's error quotes the input, credentials included
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme must be http or https (http:// means plain HTTP)%s", gotScheme(s, u))
	}
	if u.Host == "" {
		return "", fmt.Errorf("no host")
	}
	if u.User != nil {
		return "", fmt.Errorf("credentials do not belong in a mirror URL; archc uses your Docker config")
	}
	if u.RawQuery != "" || u.Fragment != "" || u.ForceQuery || strings.Contains(s, "#") {
		return "", fmt.Errorf("a mirror URL has no query or fragment")
	}
	if err := checkHost(u.Host); err != nil {
		return "", err
	}
	return strings.TrimRight(s, "/"), nil
}

// errNoMirrorScheme explains a mirror written as buildkitd.toml and daemon.json write it,
// "host:port" (which url.Parse rejects as "not a URL"): archc needs the scheme, since it
// decides TLS. The value is repeated as an example only when it cannot hold credentials.
func errNoMirrorScheme(s string) error {
	if s == "" || strings.ContainsAny(s, "@%#? ") {
		return fmt.Errorf("no scheme: add http:// (plain HTTP) or https:// in front of the host")
	}
	s = strings.TrimRight(s, "/")
	return fmt.Errorf("no scheme: add http:// or https:// in front, %q for plain HTTP or %q for TLS", "http://"+s, "https://"+s)
}

// checkProxyURL validates a proxy URL (credentials allowed; views redact them).
func checkProxyURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errNotURL // url.Parse's error quotes the input, credentials included
	}
	switch u.Scheme {
	case "http", "https", "socks5", "socks5h":
	default:
		return fmt.Errorf("scheme must be http, https, socks5 or socks5h%s", gotScheme(s, u))
	}
	if u.Host == "" {
		return fmt.Errorf("no host")
	}
	if u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(s, "#") ||
		u.User == nil && strings.Contains(s, "@") || strings.Trim(u.Path, "/") != "" {
		return fmt.Errorf("a proxy URL is scheme://[user:password@]host:port; characters such as / # ? @ in a user name or password must be percent-encoded (%%2F %%23 %%3F %%40)")
	}
	return nil
}

// errNotURL is a URL that does not parse. It names no part of the value, which may hold a
// password.
var errNotURL = errors.New("not a URL (characters such as / # ? @ % in a user name or password must be percent-encoded)")

// gotScheme says which scheme was written, when it can be told apart from credentials: in
// "bob:pw@host" Go sees the scheme "bob".
func gotScheme(s string, u *url.URL) string {
	if u.Scheme == "" || !strings.Contains(s, "://") {
		return "; write scheme://host:port"
	}
	return fmt.Sprintf(", got %q", u.Scheme)
}

// checkBuilderAddress validates a BuildKit address.
func checkBuilderAddress(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || rest == "" {
		return fmt.Errorf("write scheme://..., e.g. tcp://10.0.0.5:1234 or unix:///run/buildkit/buildkitd.sock")
	}
	switch scheme {
	case "unix", "tcp", "docker-container", "kube-pod", "ssh":
		return nil
	}
	return fmt.Errorf("unsupported scheme %q (use unix, tcp, docker-container, kube-pod or ssh)", scheme)
}

// checkTag validates an image reference used as a tag.
func checkTag(s string) error {
	ref, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return err
	}
	if _, ok := ref.(reference.Digested); ok {
		return fmt.Errorf("a tag cannot carry a digest")
	}
	return nil
}

// checkExists reports a path that is missing or of the wrong kind.
func checkExists(path string, wantDir bool, rng hcl.Range, what string) *hcl.Diagnostic {
	return checkExistsRel(path, wantDir, rng, what, "Relative paths resolve against the spec file's directory.")
}

// checkExistsRel is checkExists for a path resolved by its own rule, which a missing path's
// error states (the dockerfile resolves against the component's context, not the spec).
func checkExistsRel(path string, wantDir bool, rng hcl.Range, what, rule string) *hcl.Diagnostic {
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return errorAt(rng, what+" not found", "%s: %v. %s", what, unwrapPathErr(err), rule)
	case wantDir && !fi.IsDir():
		return errorAt(rng, what+" is not a directory", "%s is a file; it must be a directory.", path)
	case !wantDir && fi.IsDir():
		return errorAt(rng, what+" is a directory", "%s is a directory; it must be a file.", path)
	}
	return nil
}

func unwrapPathErr(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

// bakeBlocks are the top-level blocks of a docker-bake.hcl, each with where its content
// goes in a spec: someone coming from bake writes them first.
var bakeBlocks = map[string]string{
	"target":   `A bake target is a component here: write component "NAME" { context = "...", dockerfile = "...", tags = [...] } (archc init --from-bake converts a docker-bake.hcl).`,
	"group":    "archc has no groups: every component of the spec is built, and `archc plan COMPONENT...` selects some (with what they depend on). Keep the group as a comment.",
	"function": "archc has no user functions: use locals, or HCL's standard functions.",
}

// bakeHints rewrites the "Unsupported block type" errors about bake's blocks in body
// (from decoding it against rootSchema) into what to write instead.
func bakeHints(body *hclsyntax.Body, diags hcl.Diagnostics) {
	for _, blk := range body.Blocks {
		hint, ok := bakeBlocks[blk.Type]
		if !ok {
			continue
		}
		for _, d := range diags {
			if d.Summary == "Unsupported block type" && d.Subject != nil && *d.Subject == blk.TypeRange {
				d.Detail = fmt.Sprintf("Blocks of type %q are docker buildx bake's, not archc's. %s", blk.Type, hint)
			}
		}
	}
}

// outputHint adds the valid output values to a type error about output: bake's
// output = ["type=registry"] is a list of CSV strings, archc's a single word.
func outputHint(b *mergedBlock, diags hcl.Diagnostics) {
	a := attr(b, "output")
	if a == nil {
		return
	}
	for _, d := range diags {
		// gohcl's type errors point at the expression's start, in its range as Context.
		at := func(r *hcl.Range) bool { return r != nil && *r == a.Expr.Range() }
		if d.Severity == hcl.DiagError && (at(d.Subject) || at(d.Context)) {
			d.Detail = strings.TrimSuffix(d.Detail, ".") + `. output is one word: "registry", "oci", "local", "docker" or "cache-only" (bake's output = ["type=registry"] is output = "registry" here; the destination of oci and local goes in output_path).`
		}
	}
}
