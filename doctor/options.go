package doctor

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/archc-dev/archc/registry"
)

// Options configure Checks. The zero value checks the real thing: the system resolver,
// the lock next to the spec, the local builders' state directories, this machine's clock.
// Tests replace the resolver and clock so no real name is ever looked up.
type Options struct {
	// Resolver answers DNS questions; the system resolver when LookupHost is nil.
	Resolver Resolver
	// Dial opens every TCP connection doctor makes itself (to mirrors, registries, the
	// proxy, token realms); a net.Dialer when nil.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Now is the local clock compared with registries' Date headers; time.Now when nil.
	Now func() time.Time
	// LockPath is the lock file; archbuild.lock.hcl next to the spec when "".
	LockPath string
	// Cache receives what resolving tags fetches (to check the lock is current); a
	// throw-away directory when nil.
	Cache *registry.Cache
	// ConnectTarget is the host:port the proxy is asked to CONNECT to; when "", the first
	// https host the spec sends through the proxy.
	ConnectTarget string
	// BuildPlatform is what $BUILDPLATFORM stands for in Dockerfiles; this machine's when "".
	BuildPlatform string
	// Timeout is the deadline of checks that do not set their own; DefaultTimeout when 0.
	Timeout time.Duration
	// Credentials supply registry credentials by host for 401 answers (anonymous when nil).
	Credentials func(host string) (user, secret string, err error)

	// binfmtDir is where emulators are registered (tests point it elsewhere).
	binfmtDir string
}

// Resolver is a DNS resolver doctor reports by name.
type Resolver struct {
	// Name says which resolver answered ("10.0.0.2 (/etc/resolv.conf)").
	Name string
	// LookupHost returns a host's addresses.
	LookupHost func(ctx context.Context, host string) ([]string, error)
}

func (o Options) withDefaults(specDir string) Options {
	if o.Resolver.LookupHost == nil {
		o.Resolver = SystemResolver()
	}
	if o.Dial == nil {
		o.Dial = (&net.Dialer{Timeout: 5 * time.Second}).DialContext
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockPath == "" {
		o.LockPath = filepath.Join(specDir, registry.LockFileName)
	}
	if o.binfmtDir == "" {
		o.binfmtDir = "/proc/sys/fs/binfmt_misc"
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	return o
}

// SystemResolver is Go's resolver, named after the first nameserver in /etc/resolv.conf.
func SystemResolver() Resolver {
	name := "system resolver"
	if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) >= 2 && f[0] == "nameserver" {
				name = f[1] + " (/etc/resolv.conf)"
				break
			}
		}
	}
	return Resolver{Name: name, LookupHost: net.DefaultResolver.LookupHost}
}
