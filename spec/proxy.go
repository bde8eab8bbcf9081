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
	// "bob:12#pw@proxy" parses as host "bob:12" and a fragment: anything but a plain
	// scheme://[user@]host[:port][/path] is not shown at all.
	if err != nil || u.Host == "" || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" ||
		u.User == nil && strings.Contains(s, "@") {
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

// userinfo matches the credentials of a URL inside any text ("scheme://user:pass@"), up to
// the last @ before a space or quote: a password may contain "/" or "#", and masking a
// little too much is the safe direction.
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^\s"']*@`)

// bareUserinfo matches scheme-less credentials ("user:pass@host", as proxies are often
// written): a word, a colon not followed by "/" (that is a scheme), then an @.
var bareUserinfo = regexp.MustCompile(`(^|[\s"'=,(\[])[^\s"'=,(\[@/:]+:(?:[^/\s"'][^\s"']*)?@`)

// RedactText masks the credentials of every URL in s (error messages, logs, values), as
// RedactURL does, with or without a scheme.
func RedactText(s string) string {
	s = userinfo.ReplaceAllString(s, "${1}"+redactedPassword+"@")
	return bareUserinfo.ReplaceAllString(s, "${1}"+redactedPassword+"@")
}
