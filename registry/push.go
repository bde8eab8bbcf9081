package registry

import (
	"slices"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/remotes/docker"

	"github.com/archc-dev/archc/spec"
)

// PushHosts is a containerd RegistryHosts for pushing to the spec's registries with archc's
// own client: the spec's http/insecure/CA settings and its proxy (honouring no_proxy), never
// the environment's, as for resolution. Only the registry itself accepts pushes; mirrors
// are never pushed to. creds answers each host's credentials (nil: anonymous).
//
// Each host's client and authorizer are built once, on first use, and shared by every
// resolver made from the returned function (as Resolver.hostsFor does for pulls):
// containerd asks for the hosts on every Resolve, and a fresh transport and authorizer
// each time meant a new connection, TLS handshake and token per request.
func PushHosts(s *spec.Spec, creds func(host string) (string, string, error)) (docker.RegistryHosts, error) {
	conf, err := RegistryConfig(s)
	if err != nil {
		return nil, err
	}
	// Archc pushes small manifests; a minute to answer covers a registry that is slow to
	// store them.
	o, err := makeOptions([]Option{WithAttemptTimeout(time.Minute), WithTimeout(5 * time.Minute)})
	if err != nil {
		return nil, err
	}
	tc := newTransportConfig(s, o, nil)
	var mu sync.Mutex
	byHost := map[string][]docker.RegistryHost{}
	return func(host string) ([]docker.RegistryHost, error) {
		mu.Lock()
		defer mu.Unlock()
		if out, ok := byHost[host]; ok {
			return slices.Clone(out), nil
		}
		entries, err := registryHosts(conf, nil, host, tc, nil)
		if err != nil {
			return nil, err // a configuration error: not kept, it costs nothing to repeat
		}
		var out []docker.RegistryHost
		for _, e := range entries {
			if e.host.Capabilities&docker.HostCapabilityPush == 0 {
				continue
			}
			h := e.host
			if creds != nil {
				h.Authorizer = docker.NewDockerAuthorizer(docker.WithAuthClient(h.Client), docker.WithAuthCreds(creds))
			}
			out = append(out, h)
		}
		byHost[host] = out
		return slices.Clone(out), nil
	}, nil
}
