package spec

import (
	"net/url"
	"regexp"
	"strings"
)

// redactedPassword replaces a password in views, logs and errors.
const redactedPassword = "xxxxx"

// Redacted returns a copy of p whose proxy URLs carry no credentials: user:secret@ becomes
// xxxxx@. Anything printed, logged or written to a plan uses this.
func (p *Proxy) Redacted() *Proxy {
	if p == nil {
		return nil
	}
	out := *p
	out.HTTPProxy = RedactURL(p.HTTPProxy)
	out.HTTPSProxy = RedactURL(p.HTTPSProxy)
	out.AllProxy = RedactURL(p.AllProxy)
	out.NoProxy = append([]string(nil), p.NoProxy...)
	return &out
}

// RedactURL replaces the whole user-info of a URL with xxxxx, the user name too (user names
// are often tokens): "http://bob:pw@proxy:3128" becomes "http://xxxxx@proxy:3128". The
// scheme-less "bob:pw@proxy:3128" common in proxy settings is handled too. A value that
// does not parse as a URL is replaced entirely, since it cannot be shown safely. Every
// view, log and error that shows a URL from the spec goes through this or RedactText.
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	raw, scheme := s, true
	if !strings.Contains(s, "://") {
		raw, scheme = "http://"+s, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "<" + redactedPassword + ": not a URL>"
	}
	if u.User != nil {
		u.User = url.User(redactedPassword)
	}
	out := u.String()
	if !scheme {
		out = strings.TrimPrefix(out, "http://")
	}
	return out
}

// userinfo matches the credentials of a URL inside any text ("scheme://user:pass@").
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s"]+@`)

// RedactText masks the user-info of every URL in s (error messages, logs), as RedactURL does.
func RedactText(s string) string { return userinfo.ReplaceAllString(s, "${1}"+redactedPassword+"@") }
