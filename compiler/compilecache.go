package compiler

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"strconv"
	"sync"
	"time"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// compileCacheFormat names the entry format and the key's layout; bump it when either
// changes meaning.
const compileCacheFormat = "archc-compile-cache/2"

// compileCache keeps compiled builds on disk, keyed by the digest of everything a compile
// reads (compileInputs), so a plan of unchanged inputs only hashes contexts and reads
// entries. What the compile asks of the base images is not in the key (which bases a
// Dockerfile uses is known only by compiling it): each entry records every question and
// the answer, and is used only when the Images of this run answer each one alike — the
// compile is a function of its inputs and those answers, so it would produce the entry.
//
// Entries live in one snapshot per spec (its directory and files): the entries of its
// last plan, read in one go and rewritten in one go when a build was compiled — thousands
// of small files cost more to create than compiling. The context file indexes (ctxStore)
// sit beside it. A nil *compileCache caches nothing.
type compileCache struct {
	dir string
	// version identifies the compiler: archc's build (which fixes buildkit's frontend and
	// LLB caps); "" disables the cache (a build that cannot say what it is).
	version string
	// maxBytes and maxAge bound the cache (prune).
	maxBytes int64
	maxAge   time.Duration

	// name is the spec's snapshot path without extension (bind).
	name     string
	ctxs     *ctxStore
	loadOnce sync.Once
	snap     map[digest.Digest][]byte // the snapshot read, by key

	mu      sync.Mutex
	used    map[digest.Digest][]byte // entries of this plan, by key; nil: written to out
	changed bool                     // an entry was compiled
	// out is the snapshot being written, from the first entry compiled (nil before, or
	// when it cannot be: the entries are then kept in used for finish).
	out       *snapshotWriter
	outFailed bool
	// compiled are the IDs of the builds compiled (not read) through this cache, for tests.
	compiled []string
}

// noteCompiled records that build id was compiled.
func (cc *compileCache) noteCompiled(id string) {
	cc.mu.Lock()
	cc.compiled = append(cc.compiled, id)
	cc.mu.Unlock()
}

// Default bounds of the compile cache: a 1000 components × 2 platforms snapshot is ~10 MB.
const (
	compileCacheMaxBytes = 256 << 20
	compileCacheMaxAge   = 30 * 24 * time.Hour
)

// newCompileCache is the compile cache under dir (archc's cache directory + "compile"),
// nil when dir is "" or this binary cannot identify itself.
func newCompileCache(dir string) *compileCache {
	v := compilerVersion()
	if dir == "" || v == "" {
		return nil
	}
	return &compileCache{dir: dir, version: v, maxBytes: compileCacheMaxBytes, maxAge: compileCacheMaxAge}
}

// contextIndex starts a compile of the spec s through cc (its snapshot) and returns the
// context indexes; nil (every file read) for a nil cache.
func (cc *compileCache) contextIndex(s *spec.Spec) *ctxStore {
	if cc == nil {
		return nil
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	// Each compile starts from what the last one saved (finish).
	cc.name = filepath.Join(cc.dir, "plans", indexName(s.Dir, s.Files))
	cc.ctxs = loadCtxStore(cc.name + ".contexts")
	cc.loadOnce = sync.Once{}
	if cc.out != nil { // the last compile failed before finish
		cc.out.abort()
	}
	cc.out, cc.outFailed = nil, false
	cc.snap, cc.used, cc.changed = nil, map[digest.Digest][]byte{}, false
	return cc.ctxs
}

// cacheEntry is one compiled build.
type cacheEntry struct {
	// Build is the compiled build without its Definition.
	Build Build `json:"build"`
	// Definition is Build.Definition as deterministic protobuf (after the JSON on disk).
	Definition []byte `json:"-"`
	// Images are the questions the compile asked of Images, with the answers' digests.
	Images []imageAnswer `json:"images"`
	// Warnings are the plan warnings the compile gave.
	Warnings []string `json:"warnings"`
}

// imageAnswer is one question the compile asked of Images and the digest of the answer.
type imageAnswer struct {
	Ref      string            `json:"ref"`
	Platform ocispecs.Platform `json:"platform"`
	Answer   digest.Digest     `json:"answer"`
}

// answerDigest identifies everything an Image answer gives the compile.
func answerDigest(img Image) digest.Digest {
	dt, _ := json.Marshal(struct {
		Digest   digest.Digest
		Config   digest.Digest
		Host     string
		Resolved bool
	}{img.Digest, digest.FromBytes(img.Config), img.Host, img.Resolved})
	return digest.FromBytes(dt)
}

// get returns the entry of key when there is one whose image answers images repeats.
// entries is how many builds the spec's snapshot holds (0 without a cache or a snapshot):
// what a compile can expect to read rather than compile.
func (cc *compileCache) entries() int {
	if cc == nil {
		return 0
	}
	cc.loadOnce.Do(func() { cc.snap = readSnapshot(cc.name + ".builds") })
	return len(cc.snap)
}

// Anything amiss (no entry, corrupt, another answer) is a miss.
func (cc *compileCache) get(ctx context.Context, key digest.Digest, images Images) (*cacheEntry, bool) {
	if cc == nil {
		return nil, false
	}
	cc.loadOnce.Do(func() { cc.snap = readSnapshot(cc.name + ".builds") })
	raw, ok := cc.snap[key]
	if !ok {
		return nil, false
	}
	e, err := decodeEntry(raw)
	if err != nil {
		return nil, false
	}
	for _, q := range e.Images {
		img, err := images.Image(ctx, q.Ref, q.Platform)
		if err != nil || answerDigest(img) != q.Answer {
			return nil, false
		}
	}
	cc.mu.Lock()
	cc.used[key] = raw
	cc.mu.Unlock()
	return e, true
}

// put records e under key for the snapshot finish writes.
func (cc *compileCache) put(key digest.Digest, e *cacheEntry) {
	if cc == nil {
		return
	}
	raw, err := encodeEntry(e)
	if err != nil {
		return
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.changed = true
	if cc.out == nil && !cc.outFailed {
		cc.out, err = newSnapshotWriter(cc.name + ".builds")
		cc.outFailed = err != nil
	}
	if cc.out != nil {
		cc.out.add(key, raw)
		raw = nil
	}
	cc.used[key] = raw
}

// An entry on disk is the hex SHA-256 of the rest and a newline (a flipped bit or a torn
// file reads as a miss), the length of the JSON part in decimal and a newline, the JSON of
// the entry, then the definition's protobuf as is (base64 in JSON would cost a decode).
func encodeEntry(e *cacheEntry) ([]byte, error) {
	dt, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	// One allocation: the checksum's place is filled in once the body is written after it.
	const sumLen = 2*sha256.Size + 1
	out := make([]byte, sumLen, sumLen+20+len(dt)+len(e.Definition))
	out = strconv.AppendInt(out, int64(len(dt)), 10)
	out = append(out, '\n')
	out = append(out, dt...)
	out = append(out, e.Definition...)
	sum := sha256.Sum256(out[sumLen:])
	hex.Encode(out, sum[:])
	out[sumLen-1] = '\n'
	return out, nil
}

func decodeEntry(raw []byte) (*cacheEntry, error) {
	sumHex, body, ok := bytes.Cut(raw, []byte{'\n'})
	if !ok {
		return nil, errors.New("no checksum")
	}
	sum := sha256.Sum256(body)
	var want [2 * sha256.Size]byte
	hex.Encode(want[:], sum[:])
	if !bytes.Equal(want[:], sumHex) {
		return nil, errors.New("checksum mismatch")
	}
	n, rest, ok := bytes.Cut(body, []byte{'\n'})
	if !ok {
		return nil, errors.New("no length")
	}
	jsonLen, err := strconv.Atoi(string(n))
	if err != nil || jsonLen < 0 || jsonLen > len(rest) {
		return nil, errors.New("bad length")
	}
	var e cacheEntry
	if err := json.Unmarshal(rest[:jsonLen], &e); err != nil {
		return nil, err
	}
	e.Definition = rest[jsonLen:]
	if len(e.Definition) == 0 {
		return nil, errors.New("no definition")
	}
	var pdef pb.Definition
	if err := pdef.UnmarshalVT(e.Definition); err != nil {
		return nil, err
	}
	e.Build.Definition = &llb.Definition{}
	e.Build.Definition.FromPB(&pdef)
	return &e, nil
}

// newEntry is the cache entry of the compiled build b.
func newEntry(b *Build, answers []imageAnswer, warnings []string) (*cacheEntry, error) {
	dt, err := marshalDefinition(b.Definition)
	if err != nil {
		return nil, err
	}
	e := &cacheEntry{Build: *b, Definition: dt, Images: answers, Warnings: warnings}
	e.Build.Definition = nil
	return e, nil
}

// resultDigest identifies what a build gives the builds that use it as a named context:
// its whole definition (ops, metadata, source maps) and its image config.
func resultDigest(def []byte, configDigest digest.Digest) digest.Digest {
	return digest.FromString(digest.FromBytes(def).String() + " " + configDigest.String())
}

// sameFields says whether every field that fresh sets is set alike in cached: the fields
// a build gets before it is compiled are derived from inputs the key covers, so they
// agree; checking costs little and turns a key that forgot an input into a miss.
func sameFields(fresh, cached *Build) bool {
	fv, cv := reflect.ValueOf(fresh).Elem(), reflect.ValueOf(cached).Elem()
	for i := 0; i < fv.NumField(); i++ {
		if f := fv.Field(i); !f.IsZero() && !reflect.DeepEqual(f.Interface(), cv.Field(i).Interface()) {
			return false
		}
	}
	return true
}
