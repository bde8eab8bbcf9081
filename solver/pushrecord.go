package solver

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// pushRecordFormat is part of every identity: a change to what an identity covers makes
// every older record miss, rather than match on less than it should.
const pushRecordFormat = "archc-push-record/1"

// pushRecordMaxAge is how long a record no run has used is kept.
const pushRecordMaxAge = 90 * 24 * time.Hour

// PushRecord is what archc pushed for one component's registry output: the identity of
// the builds (PushIdentity) and the index every tag named afterwards. It is a record of
// this machine, never an input of a plan.
type PushRecord struct {
	// Identity is the PushIdentity of the pushed builds; the record's file is named by it.
	Identity string `json:"identity"`
	// Component is the component's name (for people reading the state directory).
	Component string `json:"component"`
	// Digest is the index (or, for one platform, the manifest) pushed under every tag.
	Digest string `json:"digest"`
	// Platforms maps each platform to its image manifest digest, when known.
	Platforms map[string]string `json:"platforms,omitempty"`
	// Tags were pushed, each naming Digest.
	Tags []string `json:"tags"`
	// Hosts are the tags' registry hosts, sorted.
	Hosts []string `json:"hosts"`
	// PushedAt is when the push finished (the record only: plans show no time).
	PushedAt time.Time `json:"pushed_at"`
}

// PushRecords is the directory of push records: $XDG_STATE_HOME/archc/pushed, one file
// per identity ("<hex>.json"). Content-addressed: two checkouts of the same spec share
// records, and going back to earlier inputs finds the earlier push.
type PushRecords string

// PushRecordsDir returns the push records directory next to the builders' state.
func PushRecordsDir() (PushRecords, error) {
	root, err := stateRoot()
	if err != nil {
		return "", err
	}
	return PushRecords(filepath.Join(root, "pushed")), nil
}

func (d PushRecords) path(identity digest.Digest) string {
	return filepath.Join(string(d), identity.Encoded()+".json")
}

// none reports whether d holds no record (or cannot be read): nothing to look up, so
// a plan need not compute any component's identity.
func (d PushRecords) none() bool {
	f, err := os.Open(string(d))
	if err != nil {
		return true
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	return len(names) == 0
}

// Load returns the record of identity, or nil when there is none (or it cannot be read:
// a record is an optimisation, never a reason to fail).
func (d PushRecords) Load(identity digest.Digest) *PushRecord {
	if d == "" || identity.Validate() != nil {
		return nil
	}
	dt, err := os.ReadFile(d.path(identity))
	if err != nil {
		return nil
	}
	var r PushRecord
	if json.Unmarshal(dt, &r) != nil || r.Identity != identity.String() || r.Digest == "" || len(r.Tags) == 0 {
		return nil
	}
	return &r
}

// Save writes r atomically under its identity and removes records unused for
// pushRecordMaxAge.
func (d PushRecords) Save(r PushRecord) error {
	id, err := digest.Parse(r.Identity)
	if err != nil {
		return fmt.Errorf("record the push of %s: %w", r.Component, err)
	}
	dt, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("record the push of %s: %w", r.Component, err)
	}
	if err := writeFileAtomic(d.path(id), append(dt, '\n')); err != nil {
		return fmt.Errorf("record the push of %s: %w", r.Component, err)
	}
	return nil
}

// Touch marks a record as used now, so pruning keeps it.
func (d PushRecords) Touch(identity digest.Digest) {
	now := time.Now()
	_ = os.Chtimes(d.path(identity), now, now)
}

// Prune removes the records no run has saved or used for pushRecordMaxAge.
func (d PushRecords) Prune(now time.Time) {
	entries, err := os.ReadDir(string(d))
	if err != nil {
		return
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && strings.HasSuffix(e.Name(), ".json") && now.Sub(info.ModTime()) > pushRecordMaxAge {
			_ = os.Remove(filepath.Join(string(d), e.Name()))
		}
	}
}

// PushIdentity is the identity of one component's builds as pushed: the digest of their
// JSON plan form (every field a plan shows: llb and config digests, pins, contexts,
// outputs and tags, cache import/export, no-cache, entitlements, secrets ids, and any
// field added to the plan later, such as an epoch, attestations or annotations) without
// what says where things come from or run rather than what is built: which host served a
// pin, whether this run resolved it, the builders. scrub hides sensitive values, so no
// secret goes into a digest kept on disk (they reach the LLB digest through what they
// change). builds are one component's, in the plan's order.
func PushIdentity(builds []compiler.Build, scrub compiler.Scrub) (digest.Digest, error) {
	if len(builds) == 0 {
		return "", errors.New("push identity: no builds")
	}
	jp := (&compiler.Plan{Builds: builds}).JSON(scrub)
	for i := range jp.Builds {
		b := &jp.Builds[i]
		b.Builders, b.ExpectedUpToDate = nil, nil
		for k := range b.Bases {
			b.Bases[k].Host, b.Bases[k].Resolved = "", false
		}
	}
	dt, err := json.Marshal(struct {
		Format string               `json:"format"`
		Builds []compiler.JSONBuild `json:"builds"`
	}{pushRecordFormat, jp.Builds})
	if err != nil {
		return "", fmt.Errorf("push identity of %s: %w", builds[0].Component, err)
	}
	return digest.FromBytes(dt), nil
}

// recordedHosts are the registry hosts of tags, sorted and unique.
func recordedHosts(tags []string) []string {
	var hosts []string
	for _, t := range tags {
		if named, err := reference.ParseNormalizedNamed(t); err == nil && !slices.Contains(hosts, reference.Domain(named)) {
			hosts = append(hosts, reference.Domain(named))
		}
	}
	slices.Sort(hosts)
	return hosts
}

// registryOnly says whether a component's builds qualify for the up-to-date fast path:
// every output is a registry push. A local directory, an OCI tarball or a Docker engine
// can change under archc without a trace it can check cheaply, and a cache-only build has
// nothing to check at all: those are always solved. So is a component with no_cache or
// no_cache_filter: it asks for its steps to run again on every apply.
func registryOnly(builds []compiler.Build) bool {
	for _, b := range builds {
		if len(b.Outputs) == 0 || b.NoCache || len(b.NoCacheFilter) > 0 {
			return false
		}
		for _, o := range b.Outputs {
			if o.Type != spec.OutputRegistry {
				return false
			}
		}
	}
	return true
}
