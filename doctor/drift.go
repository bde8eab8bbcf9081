package doctor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/solver"
)

// configCheck compares the running local daemon's buildkitd.toml and proxy environment
// with what the spec renders now: a daemon started before the spec gained a mirror, or
// without the proxy, is the drift behind builds that hang or time out although archc's
// own checks pass. Remote builders keep their own config, which doctor cannot read.
func (e *env) configCheck(name string) Check {
	return Check{Name: "builder-config " + name, Timeout: probeTimeout + time.Second, Run: func(ctx context.Context) Finding {
		p, ok := e.findProbe(ctx, name)
		checked := "running buildkitd.toml and proxy environment vs. the spec's rendering"
		switch {
		case !ok:
			return Finding{Verdict: Warn, Checked: checked, Cause: "not checked: the builder did not answer in time", Fix: "see the builder check"}
		case p.digestErr != nil:
			return Finding{Verdict: Fail, Checked: checked, Cause: "render the spec's config: " + p.digestErr.Error(), Fix: "fix the registry blocks (`archc builder config` shows the same)"}
		case !p.status.Running:
			return Finding{Verdict: OK, Checked: "not running: it will start with the spec's config"}
		case p.status.ConfigMatches != nil && *p.status.ConfigMatches:
			return Finding{Verdict: OK, Checked: checked + ": identical (mirrors, http/insecure, CA, proxy)"}
		}
		return Finding{Verdict: Warn, Checked: checked, Cause: e.driftCause(name, p.status.PID),
			Fix: "restart it with the spec's config: `archc builder down && archc builder up` (the next `archc apply` does it too); `archc builder config` prints the rendering"}
	}}
}

// driftCause names what differs: config lines (with their [table]) and proxy variables
// (names only; values may hold passwords).
func (e *env) driftCause(name string, pid int) string {
	want, wantEnv, err := solver.LocalConfig(e.s)
	if err != nil {
		return "the running daemon's config differs from the spec's rendering"
	}
	var diffs []string
	if dir, err := solver.StateDirFor(name); err == nil {
		if have, err := os.ReadFile(dir.Config()); err == nil {
			h, w := tomlLines(have), tomlLines(want)
			for _, l := range w {
				if !slices.Contains(h, l) {
					diffs = append(diffs, "daemon lacks "+l)
				}
			}
			for _, l := range h {
				if !slices.Contains(w, l) {
					diffs = append(diffs, "daemon has "+l+", the spec does not")
				}
			}
		}
	}
	haveEnv := daemonProxyEnv(pid)
	var vars []string
	for _, kv := range wantEnv {
		if !slices.Contains(haveEnv, kv) {
			k, _, _ := strings.Cut(kv, "=")
			vars = append(vars, k)
		}
	}
	for _, kv := range haveEnv {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(wantEnv, kv) && !slices.Contains(vars, k) {
			vars = append(vars, k)
		}
	}
	if len(vars) > 0 {
		slices.Sort(vars)
		diffs = append(diffs, "proxy environment differs: "+strings.Join(vars, ", "))
	}
	if len(diffs) == 0 {
		diffs = append(diffs, "its config digest differs (started by another archc version, or mirrors left out as dead by the last apply)")
	}
	return fmt.Sprintf("the running buildkitd (pid %d) is not configured as the spec says: %s", pid, registry.Redact(strings.Join(diffs, "; ")))
}

// tomlLines are a buildkitd.toml's settings as "[table] key = value", comments dropped.
func tomlLines(b []byte) []string {
	var out []string
	table := ""
	for _, l := range strings.Split(string(b), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "", strings.HasPrefix(l, "#"):
		case strings.HasPrefix(l, "["):
			table = l
		default:
			out = append(out, strings.TrimSpace(table+" "+l))
		}
	}
	return out
}

// daemonProxyEnv reads the proxy variables of a running process (same user, Linux).
func daemonProxyEnv(pid int) []string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "environ"))
	if err != nil {
		return nil
	}
	var out []string
	for _, kv := range strings.Split(string(b), "\x00") {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY":
			out = append(out, kv)
		}
	}
	return out
}
