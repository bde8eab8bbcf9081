package registry

import (
	"net/http"
	"time"

	"github.com/archc-dev/archc/spec"
)

// NewHTTPClient is archc's client for one registry host, for requests the resolver does
// not make itself (doctor's probes): the spec's TLS settings for the host (TLSConfig), the
// spec's proxy (honouring no_proxy) and the retry policy, exactly as resolution reaches
// it. A transient answer that outlives the retries comes back as an error naming the
// status. Redirects are not followed. s may be nil (no proxy, defaults).
func NewHTTPClient(s *spec.Spec, host string, opts ...Option) (*http.Client, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, err
	}
	if s == nil {
		s = &spec.Spec{}
	}
	conf, err := RegistryConfig(s)
	if err != nil {
		return nil, err
	}
	tlsConf, err := TLSConfig(conf[host])
	if err != nil {
		return nil, err
	}
	tc := newTransportConfig(s, o, nil)
	return &http.Client{
		Transport:     tc.client(tc.newTransport(tlsConf), nil, host),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// DefaultCheckDeadline bounds one CheckMirror with the default attempt timeout.
const DefaultCheckDeadline = checkRounds * DefaultCheckTimeout

// CheckDeadline bounds one CheckMirror whose attempts each have attemptTimeout to answer:
// transient answers are retried within it.
func CheckDeadline(attemptTimeout time.Duration) time.Duration {
	return checkRounds * attemptTimeout
}
