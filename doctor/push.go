package doctor

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/util/resolver/config"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/solver"
)

// Why write probes push for real: a remote node's buildkitd.toml cannot be read through
// BuildKit's API, and it alone decides how that node reaches a registry for a push or a
// cache export (CA, and http/insecure where apply's entries do not say it themselves). A
// push is the only faithful test, and the one place apply would otherwise fail after
// building everything. It is kept small and harmless: only hosts whose spec block sets
// http, insecure or ca (private registries, never a public one), one tiny image pushed by
// digest (no tag) to REPO/archc-doctor-probe, the same digest on every run.

// needsSettings reports whether the spec gives host settings a node must share: plain
// HTTP, skipping TLS verification, or a CA.
func (e *env) needsSettings(host string) bool {
	c, ok := e.conf[host]
	return ok && (c.PlainHTTP != nil || c.Insecure != nil || len(c.RootCAs) > 0)
}

// writeTargets are the write targets of jobs whose host needs settings, and the other
// hosts written to (for the report).
func (e *env) writeTargets(jobs []*solver.Job) (need []solver.WriteTarget, others []string, err error) {
	ts, err := solver.WriteTargets(e.s, jobs)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range ts {
		if e.needsSettings(t.Host) {
			need = append(need, t)
		} else if !slices.Contains(others, t.Host) {
			others = append(others, t.Host)
		}
	}
	return need, others, nil
}

// pushCheck has a remote builder that answers write, to each registry host that needs
// settings and that the builds the spec routes to it write to (pushes, registry cache
// exports), a probe image by digest in a probe repository, with apply's settings.
func (e *env) pushCheck(name string) Check {
	return Check{Name: "push " + name, Timeout: probeTimeout + solveTimeout + overstay, Run: func(ctx context.Context) Finding {
		p, ok := e.findProbe(ctx, name)
		if !ok {
			return Finding{Verdict: Fail, Checked: "builder " + name, Cause: "no status before the deadline", Fix: "`archc builder status` shows what answers"}
		}
		where := fmt.Sprintf("builder %q at %s", name, p.status.Address)
		if !p.up() {
			return Finding{Verdict: Warn, Checked: where, Cause: "not probed: it does not answer", Fix: "see the builder check " + name}
		}
		jobs, err := e.jobs()
		if err != nil {
			return Finding{Verdict: Warn, Checked: where, Cause: "not probed: " + err.Error(), Fix: "fix the Dockerfile; `archc plan` reports the same"}
		}
		probes, _ := await(ctx, e.probe)
		f := e.farmOf(probes)
		r := e.routedTo(f, f.find(name))
		jobs = slices.DeleteFunc(slices.Clone(jobs), func(j *solver.Job) bool { return !r.jobs[j.Component] })
		targets, others, err := e.writeTargets(jobs)
		if err != nil {
			return Finding{Verdict: Fail, Checked: where, Cause: err.Error(), Fix: "fix the tag or cache ref in the spec"}
		}
		if len(targets) == 0 {
			checked := where + ": writes to no registry whose block sets http, insecure or ca"
			if len(others) > 0 {
				checked += " (" + strings.Join(others, ", ") + " need no node settings: not probed)"
			}
			return Finding{Verdict: OK, Checked: checked}
		}
		return e.probeWrites(ctx, p, where, targets)
	}}
}

// probeWrites runs one write probe per target, concurrently.
func (e *env) probeWrites(ctx context.Context, p builderProbe, where string, targets []solver.WriteTarget) Finding {
	auth, err := solver.NewAuth(e.s, io.Discard)
	if err != nil {
		return Finding{Verdict: Fail, Checked: where, Cause: err.Error(), Fix: "fix the spec's registry credentials"}
	}
	b, err := e.connect(ctx, p)
	if err != nil {
		return Finding{Verdict: Fail, Checked: where, Cause: "connect: " + registry.Redact(err.Error()), Fix: "see the builder check " + p.spec.Name}
	}
	defer b.Close()
	found := make([]Finding, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i] = e.probeWrite(ctx, b, where, t, []session.Attachable{auth})
		}()
	}
	wg.Wait()
	return fold(found)
}

func (e *env) probeWrite(ctx context.Context, b *solver.Builder, where string, t solver.WriteTarget, attach []session.Attachable) Finding {
	what := "push"
	if t.Kind == "cache" {
		what = "registry cache export"
	}
	tried := fmt.Sprintf("pushed a probe image by digest to %s (for %s's %s to %s)", t.Probe, t.Component, what, t.Ref)
	sctx, cancel := context.WithTimeout(ctx, solveTimeout)
	defer cancel()
	dgst, err := solver.ProbeWrite(sctx, b, t, attach)
	if err == nil {
		if dgst != "" {
			tried += " → " + short(dgst)
		}
		return Finding{Verdict: OK, Checked: tried}
	}
	cause := registry.Redact(err.Error())
	if sctx.Err() != nil {
		cause = fmt.Sprintf("no result within %s: %s", solveTimeout, cause)
	}
	return Finding{Verdict: Fail, Checked: where + " " + tried, Cause: fmt.Sprintf("the node cannot write to %s: %s", t.Host, cause), Fix: e.nodeConfigFix(t.Host, err)}
}

// nodeConfigFix says what a node's own buildkitd.toml needs to reach host as the spec says,
// after a write probe failed with err. What err means is registry's rule (Classify,
// IsPlainHTTP); which scheme the node spoke is read from the URL it names.
func (e *env) nodeConfigFix(host string, err error) string {
	c := e.conf[host]
	triedHTTP := strings.Contains(err.Error(), "http://"+host+"/")
	// BuildKit speaks plain HTTP to a loopback host that no block marks http = false.
	spokeHTTP := triedHTTP && (c.PlainHTTP == nil || !*c.PlainHTTP)
	block := e.hostBlock(host, spokeHTTP)
	fix := fmt.Sprintf("a remote builder reaches registries with its own buildkitd.toml, not the spec's: add\n%s\nto it (a ca path is a file on the node: copy the spec's CA there), then restart buildkitd there", block)
	class := registry.Classify(err)
	switch {
	case class == registry.ClassAuth:
		return fmt.Sprintf("the registry refused the credentials archc passes through the session: `docker login %s` on this machine, and check the account may push there; or %s", host, fix)
	case class == registry.ClassTLS && registry.IsPlainHTTP(err):
		return fmt.Sprintf("%s speaks plain HTTP and the node tried https: %s", host, fix)
	case spokeHTTP || class == registry.ClassTLS && triedHTTP:
		// A plain-HTTP request meets no certificate: its TLS failure is an HTTPS server.
		return fmt.Sprintf("%s speaks https and the node tried plain HTTP: %s", host, fix)
	case class == registry.ClassTLS:
		return fmt.Sprintf("the node does not trust %s's certificate: %s", host, fix)
	}
	return fix
}

// hostBlock is the [registry."host"] block the spec renders for host (solver.RegistryBlock,
// as in the local builder's own buildkitd.toml) with the settings a node needs for a push:
// http, insecure and ca (a push goes through no mirror). https adds http = false when the
// spec leaves it unsaid (a loopback host is plain HTTP otherwise).
func (e *env) hostBlock(host string, https bool) string {
	c := e.conf[host]
	node := config.RegistryConfig{PlainHTTP: c.PlainHTTP, Insecure: c.Insecure, RootCAs: c.RootCAs}
	if node.PlainHTTP == nil && https {
		node.PlainHTTP = new(bool)
	}
	block, err := solver.RegistryBlock(host, node)
	if err != nil {
		return fmt.Sprintf("(the block for %s could not be rendered: %v; report this as an archc bug)", host, err)
	}
	return block
}
