package solver

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// tagCheckTimeout bounds the whole tag check of a run: a registry that has not answered
// by then costs a solve, not a failure.
const tagCheckTimeout = 10 * time.Second

// tagCheckParallel bounds the HEAD requests in flight.
const tagCheckParallel = 32

// TagResolver returns the digest tag names now: one HEAD to its registry.
type TagResolver func(ctx context.Context, tag string) (digest.Digest, error)

// NewTagResolver resolves tags as archc pushes them (registry.PushHosts): the tag's own
// registry, never a mirror, with the spec's http, insecure, CA and proxy settings and the
// pushes' credentials.
func NewTagResolver(s *spec.Spec, creds func(host string) (string, string, error)) (TagResolver, error) {
	hosts, err := registry.PushHosts(s, creds)
	if err != nil {
		return nil, err
	}
	r := docker.NewResolver(docker.ResolverOptions{Hosts: hosts})
	return func(ctx context.Context, tag string) (digest.Digest, error) {
		named, err := reference.ParseNormalizedNamed(tag)
		if err != nil {
			return "", fmt.Errorf("tag %q: %w", tag, err)
		}
		_, desc, err := r.Resolve(ctx, reference.TagNameOnly(named).String())
		if err != nil {
			return "", err
		}
		return desc.Digest, nil
	}, nil
}

// pushed is one component whose outputs are all registry pushes: its identity, and the
// record of its last push with these inputs (nil for none).
type pushed struct {
	identity digest.Digest
	record   *PushRecord
}

// pushedComponents returns, by component, the identity and push record of each component
// of p that qualifies for the fast path (registryOnly). It reads local state only.
func pushedComponents(p *compiler.Plan, scrub compiler.Scrub, recs PushRecords) (map[string]pushed, error) {
	by := map[string][]compiler.Build{}
	var order []string
	for _, b := range p.Builds {
		if _, ok := by[b.Component]; !ok {
			order = append(order, b.Component)
		}
		by[b.Component] = append(by[b.Component], b)
	}
	out := map[string]pushed{}
	for _, c := range order {
		if !registryOnly(by[c]) {
			continue
		}
		id, err := PushIdentity(by[c], scrub)
		if err != nil {
			return nil, err
		}
		out[c] = pushed{identity: id, record: recs.Load(id)}
	}
	return out, nil
}

// PushState is what this machine recorded of one plan's pushes: where the records are
// and, once asked for, the identity and record of each component that qualifies for the
// fast path. An apply makes one (NewPushState) and gives it both to its plan view
// (Expectations) and to Apply (ApplyOptions.Pushes), so each identity is hashed and each
// record read once per run. It reads local state only; it is not safe for concurrent use.
type PushState struct {
	plan  *compiler.Plan
	scrub compiler.Scrub
	recs  PushRecords
	comps map[string]pushed
	err   error
	read  bool
}

// NewPushState returns the push state of p, with the records in PushRecordsDir. Nothing
// is read until it is used.
func NewPushState(s *spec.Spec, p *compiler.Plan) (*PushState, error) {
	recs, err := PushRecordsDir()
	if err != nil {
		return nil, err
	}
	return newPushState(s, p, recs), nil
}

func newPushState(s *spec.Spec, p *compiler.Plan, recs PushRecords) *PushState {
	return &PushState{plan: p, scrub: s.Scrubber(), recs: recs}
}

// components returns pushedComponents of the state's plan, computed on first use.
func (ps *PushState) components() (map[string]pushed, error) {
	if !ps.read {
		ps.comps, ps.err = pushedComponents(ps.plan, ps.scrub, ps.recs)
		ps.read = true
	}
	return ps.comps, ps.err
}

// Expectations returns the builds of the plan that apply expects to find up to date:
// their inputs are those of a push this machine recorded (apply then checks the tags); a
// plan shows them (compiler.WithExpectations). Without any record it computes no
// identity. Any problem reading the state, or a nil ps, means nothing is expected.
func (ps *PushState) Expectations() compiler.Expectations {
	if ps == nil || ps.recs.none() {
		return nil
	}
	comps, err := ps.components()
	if err != nil {
		return nil
	}
	out := compiler.Expectations{}
	for _, b := range ps.plan.Builds {
		if c, ok := comps[b.Component]; ok && c.record != nil {
			out[b.ID] = compiler.Expectation{Digest: c.record.Digest, Hosts: c.record.Hosts}
		}
	}
	return out
}

// Expect returns the Expectations of p's push state, for a plan that is not applied.
func Expect(s *spec.Spec, p *compiler.Plan) compiler.Expectations {
	ps, err := NewPushState(s, p)
	if err != nil {
		return nil
	}
	return ps.Expectations()
}

// verifyTags checks, one concurrent HEAD per tag, that every tag of each recorded
// component still names the recorded digest. It returns the components that do; logf
// hears why each other one is solved (a tag moved or is gone, a registry did not answer
// or refused the credentials).
func verifyTags(ctx context.Context, comps map[string]pushed, resolve TagResolver, logf func(string, ...any)) map[string]bool {
	ctx, cancel := context.WithTimeout(ctx, tagCheckTimeout)
	defer cancel()
	var mu sync.Mutex
	failed := map[string]bool{}
	var eg errgroup.Group
	eg.SetLimit(tagCheckParallel)
	for name, c := range comps {
		if c.record == nil {
			continue
		}
		for _, tag := range c.record.Tags {
			eg.Go(func() error {
				got, err := resolve(ctx, tag)
				why := ""
				switch {
				case err != nil:
					why = fmt.Sprintf("cannot check tag %s (%v)", tag, err)
				case got.String() != c.record.Digest:
					why = fmt.Sprintf("tag %s names %s, not %s as archc pushed it", tag, got, c.record.Digest)
				default:
					return nil
				}
				mu.Lock()
				defer mu.Unlock()
				if !failed[name] {
					logf("component %s: not up to date: %s; solving it", name, why)
				}
				failed[name] = true
				return nil
			})
		}
	}
	_ = eg.Wait()
	ok := map[string]bool{}
	for name, c := range comps {
		if c.record != nil && !failed[name] {
			ok[name] = true
		}
	}
	return ok
}

// upToDate is the result of a job found up to date: the recorded digests, no builder.
func upToDate(j *Job, rec *PushRecord) Result {
	r := Result{Component: j.Component, Platforms: j.Platforms(), Output: j.Output, Tags: rec.Tags, Digest: rec.Digest, UpToDate: true}
	for _, p := range r.Platforms {
		r.Builds = append(r.Builds, BuildResult{Platform: p, Status: StatusUpToDate, Digest: rec.Platforms[p]})
		r.Builders = append(r.Builders, "")
	}
	return r
}

// fastPath is Apply's "no changes" path. Unless o.Force, it sets aside the jobs whose
// inputs are those of a recorded push and whose tags all still name it: it returns their
// results, by component, and the jobs left to solve. record saves what the solve then
// pushes. Nothing here can fail a run: what cannot be verified is solved.
func (o ApplyOptions) fastPath(ctx context.Context, s *spec.Spec, p *compiler.Plan, jobs []*Job, creds func(string) (string, string, error)) (done map[string]Result, rest []*Job, record func([]Result)) {
	logf := func(format string, args ...any) {
		fmt.Fprintf(o.Out, "%s\n", spec.SafeLine(fmt.Sprintf(format, args...)))
	}
	record = func([]Result) {}
	ps := o.Pushes
	if ps == nil || ps.plan != p {
		recs := o.Records
		if recs == "" {
			var err error
			if recs, err = PushRecordsDir(); err != nil {
				logf("warning: up-to-date check skipped, pushes not recorded: %v", err)
				return nil, jobs, record
			}
		}
		ps = newPushState(s, p, recs)
	}
	recs := ps.recs
	comps, err := ps.components()
	if err != nil {
		logf("warning: up-to-date check skipped, pushes not recorded: %v", err)
		return nil, jobs, record
	}
	record = func(results []Result) { recordPushes(recs, comps, results, logf) }
	if o.Force {
		return nil, jobs, record
	}
	resolve := o.ResolveTag
	if resolve == nil {
		if resolve, err = NewTagResolver(s, creds); err != nil {
			logf("warning: up-to-date check skipped: %v", err)
			return nil, jobs, record
		}
	}
	start := time.Now()
	ok := verifyTags(ctx, comps, resolve, logf)
	done = map[string]Result{}
	for _, j := range jobs {
		if ok[j.Component] {
			done[j.Component] = upToDate(j, comps[j.Component].record)
			recs.Touch(comps[j.Component].identity)
			continue
		}
		rest = append(rest, j)
	}
	timing(o.Out, "up-to-date check: %d of %d components in %s", len(done), len(jobs), time.Since(start))
	return done, rest, record
}

// recordPushes saves a record for each registry output pushed in this run.
func recordPushes(recs PushRecords, comps map[string]pushed, results []Result, logf func(string, ...any)) {
	for _, r := range results {
		c, ok := comps[r.Component]
		if !ok || r.UpToDate || r.Err != nil || r.Skipped || r.Output != spec.OutputRegistry || r.Digest == "" || len(r.Tags) == 0 {
			continue
		}
		rec := PushRecord{Identity: c.identity.String(), Component: r.Component, Digest: r.Digest, Tags: r.Tags,
			Hosts: recordedHosts(r.Tags), PushedAt: time.Now().UTC()}
		for _, b := range r.Builds {
			if b.Digest != "" {
				if rec.Platforms == nil {
					rec.Platforms = map[string]string{}
				}
				rec.Platforms[b.Platform] = b.Digest
			}
		}
		if err := recs.Save(rec); err != nil {
			logf("warning: %v", err)
		}
	}
	recs.Prune(time.Now())
}

// mergeResults puts the up-to-date results and those of the solve back in jobs' order.
func mergeResults(jobs []*Job, done map[string]Result, solved []Result) []Result {
	by := make(map[string]Result, len(solved))
	for _, r := range solved {
		by[r.Component] = r
	}
	out := make([]Result, 0, len(jobs))
	for _, j := range jobs {
		if r, ok := done[j.Component]; ok {
			out = append(out, r)
		} else if r, ok := by[j.Component]; ok {
			out = append(out, r)
		}
	}
	return out
}
