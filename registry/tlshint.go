package registry

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
)

// IsPlainHTTP reports whether err is a TLS handshake that a plain-HTTP server answered:
// net/http's "server gave HTTP response to HTTPS client" (an untyped error) or the
// tls.RecordHeaderError under it. lock, plan and doctor decide by this one rule.
func IsPlainHTTP(err error) bool {
	if err == nil {
		return false
	}
	var rec tls.RecordHeaderError
	if errors.As(err, &rec) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "server gave http response to https client") ||
		strings.Contains(msg, "first record does not look like a tls handshake")
}

// TLSFix is the one fix for a TLS failure, written for the spec; lock, plan and doctor
// all print it. domain is the registry the reference belongs to; mirrorURL is the mirror
// that failed, or "" when it was the registry itself. A mirror's TLS settings come from
// its own registry block (as in buildkitd.toml), never from domain's.
func TLSFix(domain, mirrorURL string, plainHTTP bool) string {
	host := domain
	if mirrorURL != "" {
		if mu, err := ParseMirror(mirrorURL); err == nil {
			host = mu.Host
		}
	}
	switch {
	case plainHTTP && mirrorURL != "":
		return fmt.Sprintf("the server speaks plain HTTP: write it as http://%s in registry %q { mirrors }, or set http = true in a registry %q block of the spec",
			strings.TrimPrefix(mirrorURL, "https://"), domain, host)
	case plainHTTP:
		return fmt.Sprintf("the server speaks plain HTTP: set http = true in registry %q of the spec", host)
	case mirrorURL != "":
		return fmt.Sprintf("give the spec the CA that signed it: ca = \"certs/ca.pem\" (or insecure = true to skip verification) in a registry %q block: a mirror does not inherit registry %q's settings", host, domain)
	default:
		return fmt.Sprintf("give the spec the CA that signed it: ca = \"certs/ca.pem\" (or insecure = true to skip verification) in registry %q of the spec", host)
	}
}
