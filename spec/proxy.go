package spec

import (
	"net/url"
)

// redactedPassword replaces a password in views, logs and errors.
const redactedPassword = "xxxxx"

// Redacted returns a copy of p whose proxy URLs carry no password: user:secret@ becomes
// user:xxxxx@. Anything printed, logged or written to a plan uses this.
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

// RedactURL replaces the password of a URL with xxxxx. A string that does not parse as a
// URL is replaced entirely, since it cannot be checked for secrets.
func RedactURL(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return redactedPassword
	}
	if u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), redactedPassword)
	}
	return u.String()
}
