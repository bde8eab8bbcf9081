package doctor

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Clock skew thresholds against a registry's Date header.
const (
	SkewWarn = 30 * time.Second
	SkewFail = 5 * time.Minute
)

// clockAttempt bounds one registry's answer.
const clockAttempt = 3 * time.Second

// clockCheck compares this machine's clock with the Date header of the first mirror or
// in-house registry that answers /v2/: registry tokens and TLS certificates are rejected
// when the clock is far off. Public registries are not contacted for it.
func (e *env) clockCheck() Check {
	return Check{Name: "clock", Run: func(ctx context.Context) Finding {
		cands := e.clockCandidates()
		if len(cands) == 0 {
			return Finding{Verdict: OK, Checked: "no mirror or in-house registry to compare with; not checked"}
		}
		var tried []string
		for _, c := range cands {
			date, err := e.registryDate(ctx, c)
			if err != nil {
				tried = append(tried, c.url+": "+err.Error())
				continue
			}
			// Date has whole seconds: compare whole seconds.
			skew := e.o.Now().Truncate(time.Second).Sub(date)
			checked := fmt.Sprintf("Date of %s vs this machine: %s", c.url, describeSkew(skew))
			abs := skew.Abs()
			switch {
			case abs > SkewFail:
				return Finding{Verdict: Fail, Checked: checked, Cause: fmt.Sprintf("the clock is off by %s (more than %s): registry tokens and TLS certificates are rejected", abs.Round(time.Second), SkewFail), Fix: clockFix}
			case abs > SkewWarn:
				return Finding{Verdict: Warn, Checked: checked, Cause: fmt.Sprintf("the clock is off by %s (more than %s): tokens expire early or are not yet valid", abs.Round(time.Second), SkewWarn), Fix: clockFix}
			}
			return Finding{Verdict: OK, Checked: checked}
		}
		return Finding{Verdict: Warn, Checked: fmt.Sprintf("%d registries asked for their Date", len(cands)), Cause: "no registry answered with a Date: " + joinShort(tried),
			Fix: "see the mirror checks; the clock could not be compared"}
	}}
}

const clockFix = "sync the clock: `timedatectl set-ntp true` (or run chronyd/ntpd); in a VM or container, fix the host's clock"

func describeSkew(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d > 0:
		return fmt.Sprintf("this machine is %s ahead", d)
	case d < 0:
		return fmt.Sprintf("this machine is %s behind", -d)
	}
	return "in step (within 1s)"
}

// clockCandidate is a /v2/ endpoint to ask for the time.
type clockCandidate struct{ host, url string }

// clockCandidates are the mirrors, then the loopback and in-house registries an image or
// tag uses, in that order.
func (e *env) clockCandidates() []clockCandidate {
	var out []clockCandidate
	for _, m := range e.mirrors {
		out = append(out, clockCandidate{host: m.Host, url: fmt.Sprintf("%s://%s%s/v2/", m.Scheme, m.Host, m.Path)})
	}
	for _, h := range e.directHosts() {
		if !e.used[h.host] {
			continue // mirrors are above; an unused registry block is never contacted
		}
		out = append(out, clockCandidate{host: h.host, url: fmt.Sprintf("%s://%s/v2/", e.schemeOf(h.host), h.host)})
	}
	return out
}

func (e *env) registryDate(ctx context.Context, c clockCandidate) (time.Time, error) {
	cl, err := e.client(c.host)
	if err != nil {
		return time.Time{}, err
	}
	actx, cancel := context.WithTimeout(ctx, clockAttempt)
	defer cancel()
	resp, err := get(actx, cl, http.MethodGet, c.url, nil)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s", netCause(err, actx))
	}
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return time.Time{}, fmt.Errorf("HTTP %d without a Date header", resp.StatusCode)
	}
	return d, nil
}

func joinShort(parts []string) string {
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += "; "
		}
		s += p
	}
	return s
}
