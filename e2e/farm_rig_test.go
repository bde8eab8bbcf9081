package e2e

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	controlapi "github.com/moby/buildkit/api/services/control"
	"github.com/moby/buildkit/client"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/internal/testenv"
)

// farmServerName is the name in the mTLS node's certificate; the spec sets server_name.
const farmServerName = "buildkitd.farm.archc.test"

// farmNode is one buildkitd of the farm, started by the test (not by archc), so the test
// owns its PID (kill -9), its root (cold starts) and its build history.
type farmNode struct {
	name      string
	platforms []string // the builder block's platforms, and the worker's if workerPlats
	addr      string   // unix:///…/buildkitd.sock or tcp://127.0.0.1:PORT
	root      string   // a short path: the unix socket lives in it
	bin       string
	tls       *farmTLS // nil: a unix socket
	push      string   // the push registry host (plain HTTP), in the node's own buildkitd.toml

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// farmTLS are the files of the mTLS node: a CA, the daemon's pair and archc's client pair.
type farmTLS struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

// nodeConfig is the node's own buildkitd.toml: a remote builder keeps its own config, so
// the push registry's plain HTTP is declared here as an operator would. workerPlats, when
// set, makes the worker advertise only those platforms (an arm64 machine, emulated here).
func nodeConfig(push string, workerPlats []string) string {
	var b strings.Builder
	b.WriteString("debug = false\n[worker.oci]\n  enabled = true\n")
	if len(workerPlats) > 0 {
		fmt.Fprintf(&b, "  platforms = [%q]\n", strings.Join(workerPlats, `", "`))
	}
	b.WriteString("[worker.containerd]\n  enabled = false\n")
	fmt.Fprintf(&b, "[registry.%q]\n  http = true\n", push)
	return b.String()
}

// newFarmNode prepares a node; start runs it. An arm64 node's worker advertises only
// linux/arm64, so it stands for a native arm64 machine (qemu runs its steps here).
func newFarmNode(t *testing.T, bin, name, push string, platforms []string, tls *farmTLS) *farmNode {
	t.Helper()
	root, err := os.MkdirTemp("", "archc-farm-"+name+"-")
	require.NoError(t, err)
	n := &farmNode{name: name, platforms: platforms, root: root, bin: bin, tls: tls, push: push}
	var workerPlats []string
	if len(platforms) == 1 && platforms[0] == "linux/arm64" {
		workerPlats = platforms
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "buildkitd.toml"), []byte(nodeConfig(push, workerPlats)), 0o600))
	if tls == nil {
		n.addr = "unix://" + filepath.Join(root, "buildkitd.sock")
	} else {
		n.addr = "tcp://" + testenv.ClosedAddr(t)
	}
	t.Cleanup(func() {
		n.stop(t)
		unmountUnder(root)
		_ = os.RemoveAll(root)
	})
	return n
}

// unmountUnder detaches what a killed daemon left mounted under root (its running steps'
// overlays), so the root can be removed.
func unmountUnder(root string) {
	info, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(info), "\n") {
		if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(f[4], root+"/") {
			points = append(points, f[4])
		}
	}
	// Deepest first: a mount inside another goes before it.
	slices.SortFunc(points, func(a, b string) int { return len(b) - len(a) })
	for _, p := range points {
		_ = syscall.Unmount(p, syscall.MNT_DETACH)
	}
}

// start runs buildkitd and waits until it lists its workers. A restart after stop or
// kill9 reuses the root, as a rebooted node would.
func (n *farmNode) start(t *testing.T) {
	t.Helper()
	require.NoError(t, n.run())
}

// run is start without a *testing.T, for starting nodes side by side.
func (n *farmNode) run() error {
	args := []string{"--addr", n.addr, "--root", filepath.Join(n.root, "state"),
		"--config", filepath.Join(n.root, "buildkitd.toml"), "--oci-worker=true", "--containerd-worker=false"}
	if n.tls != nil {
		args = append(args, "--tlscacert", n.tls.ca, "--tlscert", n.tls.serverCert, "--tlskey", n.tls.serverKey)
	}
	logf, err := os.OpenFile(n.logPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(n.bin, args...)
	cmd.Env = append(os.Environ(), "HTTP_PROXY=", "HTTPS_PROXY=", "http_proxy=", "https_proxy=")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start buildkitd %s: %w", n.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	n.mu.Lock()
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()
	return n.waitReady(exited)
}

func (n *farmNode) logPath() string { return filepath.Join(n.root, "buildkitd.log") }

func (n *farmNode) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(60 * time.Second)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("buildkitd %s exited during startup; log:\n%s", n.name, tailOfFile(n.logPath(), 20))
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		last = n.withClient(ctx, func(c *client.Client) error {
			ws, err := c.ListWorkers(ctx)
			if err == nil && len(ws) == 0 {
				err = errors.New("no workers yet")
			}
			return err
		})
		cancel()
		if last == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("buildkitd %s did not answer within 60s: %v; log:\n%s", n.name, last, tailOfFile(n.logPath(), 20))
}

// withClient dials the node as archc would (with the client certificate over mTLS).
func (n *farmNode) withClient(ctx context.Context, f func(*client.Client) error) error {
	var opts []client.ClientOpt
	if n.tls != nil {
		opts = append(opts, client.WithServerConfig(farmServerName, n.tls.ca), client.WithCredentials(n.tls.clientCert, n.tls.clientKey))
	}
	c, err := client.New(ctx, n.addr, opts...)
	if err != nil {
		return err
	}
	defer c.Close()
	return f(c)
}

// pid is the running daemon's PID, 0 when it is not running.
func (n *farmNode) pid() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.cmd == nil {
		return 0
	}
	select {
	case <-n.exited:
		return 0
	default:
		return n.cmd.Process.Pid
	}
}

// stop ends the daemon with SIGTERM (SIGKILL after 15 s); a node already down is fine.
func (n *farmNode) stop(t *testing.T) { n.signal(t, syscall.SIGTERM, 15*time.Second) }

// kill9 ends the daemon as a crashed machine would: no goodbye on its connections.
func (n *farmNode) kill9(t *testing.T) { n.signal(t, syscall.SIGKILL, 10*time.Second) }

func (n *farmNode) signal(t *testing.T, sig syscall.Signal, grace time.Duration) {
	t.Helper()
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
	}
}

// histories lists the node's build history records (completed and running), by ref.
func (n *farmNode) histories(t *testing.T) map[string]*controlapi.BuildHistoryRecord {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := map[string]*controlapi.BuildHistoryRecord{}
	err := n.withClient(ctx, func(c *client.Client) error {
		stream, err := c.ControlClient().ListenBuildHistory(ctx, &controlapi.BuildHistoryRequest{EarlyExit: true})
		if err != nil {
			return err
		}
		for {
			ev, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if r := ev.GetRecord(); r != nil {
				out[r.Ref] = r
			}
		}
	})
	require.NoError(t, err, "build history of %s", n.name)
	return out
}

// newRecords are the records of after that are not in before.
func newRecords(before, after map[string]*controlapi.BuildHistoryRecord) []*controlapi.BuildHistoryRecord {
	var out []*controlapi.BuildHistoryRecord
	for ref, r := range after {
		if _, ok := before[ref]; !ok {
			out = append(out, r)
		}
	}
	return out
}

// exportedNames are the image names a record's exporters were given ("HOST/repo[:tag],…").
func exportedNames(r *controlapi.BuildHistoryRecord) []string {
	var out []string
	for _, ex := range r.Exporters {
		if name := ex.Attrs["name"]; name != "" {
			out = append(out, strings.Split(name, ",")...)
		}
	}
	return out
}

// sleepingUnder reports whether a process running `sleep` descends from pid: a RUN sleep
// step in flight on that node (runc's container is the daemon's grandchild).
func sleepingUnder(pid int) bool {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !strings.Contains(strings.ReplaceAll(string(cmdline), "\x00", " "), "sleep ") {
			continue
		}
		var child int
		if _, err := fmt.Sscanf(filepath.Base(filepath.Dir(p)), "%d", &child); err == nil && descendsFrom(child, pid) {
			return true
		}
	}
	return false
}

func descendsFrom(child, ancestor int) bool {
	for i := 0; i < 32 && child > 1; i++ {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", child))
		if err != nil {
			return false
		}
		// Fields after the command (which may hold spaces) follow the last ')'.
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+1:])
		var state string
		var ppid int
		if _, err := fmt.Sscanf(rest, " %s %d", &state, &ppid); err != nil {
			return false
		}
		if ppid == ancestor {
			return true
		}
		child = ppid
	}
	return false
}

func tailOfFile(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	return tail(string(b), n)
}

// newFarmTLS writes a CA, a server pair for farmServerName and 127.0.0.1, and a client pair.
func newFarmTLS(t *testing.T, dir string) *farmTLS {
	t.Helper()
	ca := testenv.NewCA(t, dir, "archc-farm")
	f := &farmTLS{ca: ca.Path}
	f.serverCert, f.serverKey = ca.Issue(t, "server", x509.ExtKeyUsageServerAuth, []string{farmServerName}, []net.IP{net.IPv4(127, 0, 0, 1)})
	f.clientCert, f.clientKey = ca.Issue(t, "client", x509.ExtKeyUsageClientAuth, nil, nil)
	return f
}

// farmRig is the three-node farm on loopback, the registries of env, and archc.
type farmRig struct {
	e     *env
	reg   registryClient
	nodes []*farmNode // amd-1 (unix), amd-2 (tcp+mTLS), arm (unix, arm64 worker)
}

// newFarmRig starts the three nodes side by side.
func newFarmRig(t *testing.T, e *env) *farmRig {
	t.Helper()
	bin := testenv.Require(t, testenv.PartBuildkitd)
	tlsFiles := newFarmTLS(t, t.TempDir())
	rig := &farmRig{e: e, reg: registryClient{base: e.push.URL}, nodes: []*farmNode{
		newFarmNode(t, bin, "amd-1", e.push.Host, []string{"linux/amd64"}, nil),
		newFarmNode(t, bin, "amd-2", e.push.Host, []string{"linux/amd64"}, tlsFiles),
		newFarmNode(t, bin, "arm", e.push.Host, []string{"linux/arm64"}, nil),
	}}
	startNodes(t, rig.nodes)
	return rig
}

// startNodes starts nodes concurrently (a cold buildkitd takes seconds to set up).
func startNodes(t *testing.T, nodes []*farmNode) {
	t.Helper()
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = n.run() }()
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
}

func (rig *farmRig) node(name string) *farmNode {
	for _, n := range rig.nodes {
		if n.name == name {
			return n
		}
	}
	panic("no farm node " + name)
}

// farmSpec is what a scenario changes in the builder blocks.
type farmSpec struct {
	maxParallel map[string]int  // builder → max_parallel (absent: the default)
	required    map[string]bool // builder → required = true
}

// project writes archbuild.hcl (registries, a builder block per node, then the
// components.hcl entry of files) and the other files into a new directory.
func (rig *farmRig) project(t *testing.T, fs farmSpec, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	out := map[string]string{}
	for k, v := range files {
		out[k] = v
	}
	out["archbuild.hcl"] = farmBuilders(rig.e, rig.nodes, fs) + files["components.hcl"]
	delete(out, "components.hcl")
	write(t, dir, out)
	return dir
}

// farmBuilders renders the registries and one builder block per node.
func farmBuilders(e *env, nodes []*farmNode, fs farmSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "registry \"docker.io\" {\n  mirrors = [%q]\n}\nregistry %q {\n  http = true\n}\n", e.mirror.URL, e.push.Host)
	for _, n := range nodes {
		fmt.Fprintf(&b, "builder %q {\n  address   = %q\n  platforms = [%q]\n", n.name, n.addr, strings.Join(n.platforms, `", "`))
		if n.tls != nil {
			fmt.Fprintf(&b, "  ca_cert     = %q\n  cert        = %q\n  key         = %q\n  server_name = %q\n",
				n.tls.ca, n.tls.clientCert, n.tls.clientKey, farmServerName)
		}
		if mp, ok := fs.maxParallel[n.name]; ok {
			fmt.Fprintf(&b, "  max_parallel = %d\n", mp)
		}
		if fs.required[n.name] {
			b.WriteString("  required = true\n")
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// farmSnapshot is every running node's build history at one moment.
type farmSnapshot map[string]map[string]*controlapi.BuildHistoryRecord

func (rig *farmRig) snapshot(t *testing.T) farmSnapshot {
	t.Helper()
	s := farmSnapshot{}
	for _, n := range rig.nodes {
		if n.pid() != 0 {
			s[n.name] = n.histories(t)
		}
	}
	return s
}

// builtBy maps each running node to the components (the last path element of the
// repository each exported record names under repo/) it built since before.
func (rig *farmRig) builtBy(t *testing.T, before farmSnapshot, repo string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for name, after := range rig.snapshot(t) {
		for _, r := range newRecords(before[name], after) {
			for _, ref := range exportedNames(r) {
				_, rest, ok := strings.Cut(ref, "/"+repo+"/")
				if !ok {
					continue
				}
				c, _, _ := strings.Cut(rest, ":")
				c, _, _ = strings.Cut(c, "@")
				if !slices.Contains(out[name], c) {
					out[name] = append(out[name], c)
				}
			}
		}
	}
	return out
}
