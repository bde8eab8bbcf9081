package solver

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/containerd/platforms"
	"github.com/moby/buildkit/client"
	_ "github.com/moby/buildkit/client/connhelper/dockercontainer" // docker-container://
	_ "github.com/moby/buildkit/client/connhelper/kubepod"         // kube-pod://
	_ "github.com/moby/buildkit/client/connhelper/ssh"             // ssh://
	gateway "github.com/moby/buildkit/frontend/gateway/client"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// Builder is a connected BuildKit daemon.
type Builder struct {
	// Name is the spec's builder name (DefaultLocalName for the managed one).
	Name string
	// Address is what the client dialled.
	Address string
	// Local means archc manages this daemon (its config is rendered from the spec).
	Local bool
	// Declared are the platforms the spec's builder block lists (normalized); empty means
	// whatever the workers report.
	Declared []string
	// Workers are the platforms the daemon's workers report (native and emulated).
	Workers []ocispecs.Platform
	// Client is the open connection (a *client.Client); Close releases it.
	Client Daemon

	// release lets other runs restart a local builder again (EnsureLocal's shared lock).
	release func()
}

// Daemon is what archc asks of a connected buildkitd, all *client.Client methods: the seam
// between scheduling (Run) and BuildKit, which tests fill with a fake and a build farm can
// wrap.
type Daemon interface {
	// Build runs buildFunc in a session with opt's exports, local dirs and stores, and
	// closes statusChan when it returns.
	Build(ctx context.Context, opt client.SolveOpt, product string, buildFunc gateway.BuildFunc, statusChan chan *client.SolveStatus) (*client.SolveResponse, error)
	// Info describes the daemon (its BuildKit version).
	Info(ctx context.Context) (*client.Info, error)
	Close() error
}

var _ Daemon = (*client.Client)(nil)

// Close releases the connection and, for a local builder, this run's hold on it.
func (b *Builder) Close() error {
	if b == nil {
		return nil
	}
	if b.release != nil {
		defer b.release()
		b.release = nil
	}
	if b.Client == nil {
		return nil
	}
	return b.Client.Close()
}

// Serves reports whether the builder's workers can run platform p.
func (b *Builder) Serves(p string) bool {
	want, err := platforms.Parse(p)
	if err != nil {
		return false
	}
	m := platforms.Only(want)
	for _, w := range b.Workers {
		if platforms.Only(w).Match(want) || m.Match(w) {
			return true
		}
	}
	return false
}

// WorkerPlatforms returns the workers' platforms as sorted, normalized strings.
func (b *Builder) WorkerPlatforms() []string {
	var out []string
	for _, p := range b.Workers {
		s := spec.FormatPlatform(p)
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// connectLocal dials the local daemon and waits at most timeout for its workers.
func connectLocal(ctx context.Context, name string, dir StateDir, timeout time.Duration) (*Builder, error) {
	if _, err := os.Stat(dir.Socket()); err != nil {
		return nil, fmt.Errorf("no socket at %s", dir.Socket())
	}
	b, err := dial(ctx, dir.Address(), timeout)
	if err != nil {
		return nil, err
	}
	b.Name, b.Local = name, true
	return b, nil
}

// dial opens a client and lists workers within timeout.
func dial(ctx context.Context, address string, timeout time.Duration, opts ...client.ClientOpt) (*Builder, error) {
	c, err := client.New(ctx, address, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", address, err)
	}
	lctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ws, err := c.ListWorkers(lctx)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("list workers at %s: %w", address, err)
	}
	if len(ws) == 0 {
		c.Close()
		return nil, fmt.Errorf("builder at %s has no workers", address)
	}
	b := &Builder{Address: address, Client: c}
	for _, w := range ws {
		b.Workers = append(b.Workers, w.Platforms...)
	}
	return b, nil
}

// ConnectRemote connects to a builder block with an address: unix://, tcp:// (with the
// block's TLS files), docker-container://, kube-pod:// or ssh:// (`ssh HOST buildctl
// dial-stdio`, buildctl on the remote PATH; a path names the remote socket).
func ConnectRemote(ctx context.Context, sb spec.Builder, timeout time.Duration) (*Builder, error) {
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	b, err := dial(ctx, sb.Address, timeout, remoteTLSOpts(sb)...)
	if err != nil {
		return nil, registry.WithHint(fmt.Errorf("builder %q: %w", sb.Name, err), remoteHint(sb, err))
	}
	b.Name = sb.Name
	b.Declared = sb.Platforms
	return b, nil
}

// Status describes a builder for `archc builder status`.
type Status struct {
	Name      string
	Address   string
	Local     bool
	Running   bool
	PID       int
	Version   string
	Platforms []string
	// ConfigMatches is set for the local builder: whether the running daemon's config and
	// proxy environment are what the spec renders now.
	ConfigMatches *bool
	Err           error
}

// LocalStatus inspects the local builder without starting it. wantDigest is
// ConfigDigest of the spec's current rendering.
func LocalStatus(ctx context.Context, name, wantDigest string) Status {
	st := Status{Name: name, Local: true}
	dir, err := StateDirFor(name)
	if err != nil {
		st.Err = err
		return st
	}
	st.Address = dir.Address()
	st.PID = runningPID(dir)
	if st.PID == 0 {
		return st
	}
	st.Running = true
	have, _ := os.ReadFile(dir.Digest())
	m := strings.TrimSpace(string(have)) == wantDigest
	st.ConfigMatches = &m
	b, err := connectLocal(ctx, name, dir, 5*time.Second)
	if err != nil {
		st.Err = err
		return st
	}
	defer b.Close()
	fillStatus(ctx, &st, b)
	return st
}

// RemoteStatus connects to a builder block and describes it.
func RemoteStatus(ctx context.Context, sb spec.Builder) Status {
	st := Status{Name: sb.Name, Address: sb.Address}
	b, err := ConnectRemote(ctx, sb, 5*time.Second)
	if err != nil {
		st.Err = err
		return st
	}
	defer b.Close()
	st.Running = true
	fillStatus(ctx, &st, b)
	return st
}

func fillStatus(ctx context.Context, st *Status, b *Builder) {
	st.Platforms = b.WorkerPlatforms()
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := b.Client.Info(ictx)
	if err != nil {
		st.Err = fmt.Errorf("info: %w", err)
		return
	}
	st.Version = info.BuildkitVersion.Version
}

// Statuses is the status of every builder of the spec: its local ones (their running
// config compared with the spec's rendering), then its remote ones, in spec order.
func Statuses(ctx context.Context, s *spec.Spec) ([]Status, error) {
	want, err := DaemonConfigDigest(s)
	if err != nil {
		return nil, err
	}
	var sts []Status
	for _, lb := range LocalBuilders(s) {
		sts = append(sts, LocalStatus(ctx, lb.Name, want))
	}
	for _, sb := range s.Builders {
		if sb.Address != "" {
			sts = append(sts, RemoteStatus(ctx, sb))
		}
	}
	return sts, nil
}
