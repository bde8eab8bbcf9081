package registry

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/util/resolver/config"
)

// NewHTTPClient is archc's client for one registry host, for requests the resolver does
// not make itself (doctor's probes): the spec's TLS settings for the host (TLSConfig), the
// spec's proxy (honouring no_proxy) and the retry policy, exactly as resolution reaches
// it. A transient answer that outlives the retries comes back as an error naming the
// status. Redirects are not followed. s may be nil (no proxy, defaults).
func NewHTTPClient(s *spec.Spec, host string, opts ...Option) (*http.Client, error) {
	s, o, conf, err := standalone(s, opts)
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

// NewHostsTransport is archc's transport for requests to any host the spec may name, each
// request with its own host's settings: the TLS of the spec's block for that host (a realm
// without a port also matches a block for :443), the system roots for a host without one
// (an insecure in-house registry relaxes nothing else), the spec's proxy and the retry
// policy. Registry token fetches go through it: the daemon asks archc for tokens, and they
// must reach auth.docker.io through the spec's proxy.
func NewHostsTransport(s *spec.Spec, opts ...Option) (http.RoundTripper, error) {
	s, o, conf, err := standalone(s, opts)
	if err != nil {
		return nil, err
	}
	tc := newTransportConfig(s, o, nil)
	ht := &hostsTransport{byHost: map[string]http.RoundTripper{}}
	for host, c := range conf {
		if (c.Insecure == nil || !*c.Insecure) && len(c.RootCAs) == 0 {
			continue // the default's settings
		}
		tlsConf, err := TLSConfig(c)
		if err != nil {
			return nil, fmt.Errorf("registry %s: %w", host, err)
		}
		ht.byHost[strings.ToLower(host)] = tc.client(tc.newTransport(tlsConf), nil, host)
	}
	ht.def = tc.client(tc.newTransport(nil), nil, "")
	return ht, nil
}

type hostsTransport struct {
	def    http.RoundTripper
	byHost map[string]http.RoundTripper
}

func (t *hostsTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	host := strings.ToLower(r.URL.Host)
	if rt, ok := t.byHost[host]; ok {
		return rt.RoundTrip(r)
	}
	if r.URL.Port() == "" && r.URL.Scheme == "https" {
		if rt, ok := t.byHost[host+":443"]; ok {
			return rt.RoundTrip(r)
		}
	}
	return t.def.RoundTrip(r)
}

// standalone is the start of every client made outside a Resolver: the options, the spec
// (nil: no proxy, defaults) and its registry configuration.
func standalone(s *spec.Spec, opts []Option) (*spec.Spec, options, map[string]config.RegistryConfig, error) {
	o, err := makeOptions(opts)
	if err != nil {
		return nil, o, nil, err
	}
	if s == nil {
		s = &spec.Spec{}
	}
	conf, err := RegistryConfig(s)
	return s, o, conf, err
}
