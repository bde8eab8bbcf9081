package compiler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"github.com/moby/buildkit/util/apicaps"
	digest "github.com/opencontainers/go-digest"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"
)

// TestMarshalDefinitionIsProto: marshalDefinition writes the bytes the protobuf runtime's
// deterministic encoder writes for def.ToPB(), so plan files and compile cache entries are
// what they were. Checked on compiled definitions (the golden project and BuildKit's
// parity Dockerfiles) and on seeded random ones that set every field: maps empty and full,
// empty keys and values, false caps, source maps with nested definitions.
func TestMarshalDefinitionIsProto(t *testing.T) {
	t.Parallel()
	check := func(t *testing.T, what string, def *llb.Definition) {
		t.Helper()
		want, err := proto.MarshalOptions{Deterministic: true}.Marshal(def.ToPB())
		require.NoError(t, err, what)
		got, err := marshalDefinition(def)
		require.NoError(t, err, what)
		require.Equal(t, want, got, what)
	}
	t.Run("golden project", func(t *testing.T) {
		t.Parallel()
		for _, b := range compileProject(t, projectDir).Builds {
			check(t, b.ID, b.Definition)
		}
	})
	t.Run("parity Dockerfiles", func(t *testing.T) {
		t.Parallel()
		dirs, err := filepath.Glob("../e2e/testdata/parity/*/Dockerfile")
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(dirs), 20, "the parity corpus")
		compiled := 0
		for _, df := range dirs {
			dt, err := os.ReadFile(df)
			require.NoError(t, err)
			s := oneComponent(t, string(dt), spec.Component{})
			plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
			if err != nil {
				continue // needs what oneComponent does not give (named contexts, files)
			}
			compiled++
			for _, b := range plan.Builds {
				check(t, df+" "+b.ID, b.Definition)
			}
		}
		require.GreaterOrEqual(t, compiled, 20, "parity Dockerfiles compiled")
	})
	t.Run("random", func(t *testing.T) {
		t.Parallel()
		r := rand.New(rand.NewPCG(15, 1))
		for i := range 500 {
			check(t, fmt.Sprintf("random definition %d", i), randomDefinition(r, 2))
		}
	})
}

func randomDefinition(r *rand.Rand, depth int) *llb.Definition {
	def := &llb.Definition{Metadata: map[digest.Digest]llb.OpMetadata{}}
	for range r.IntN(5) {
		def.Def = append(def.Def, randomBytes(r, 40))
	}
	for range r.IntN(6) {
		def.Metadata[digest.Digest(randomString(r))] = randomOpMetadata(r)
	}
	if r.IntN(3) > 0 {
		def.Source = randomSource(r, depth)
	}
	return def
}

func randomOpMetadata(r *rand.Rand) llb.OpMetadata {
	m := llb.OpMetadata{IgnoreCache: r.IntN(2) == 0}
	if n := r.IntN(4); n > 0 {
		m.Description = map[string]string{}
		for range n {
			m.Description[randomString(r)] = randomString(r)
		}
	}
	if r.IntN(2) == 0 {
		m.ExportCache = &pb.ExportCache{Value: r.IntN(2) == 0}
	}
	if n := r.IntN(4); n > 0 {
		m.Caps = map[apicaps.CapID]bool{}
		for range n {
			m.Caps[apicaps.CapID(randomString(r))] = r.IntN(2) == 0
		}
	}
	if r.IntN(2) == 0 {
		m.ProgressGroup = &pb.ProgressGroup{Id: randomString(r), Name: randomString(r), Weak: r.IntN(2) == 0}
	}
	if r.IntN(3) == 0 {
		m.LinuxResources = &pb.LinuxResources{Memory: r.Int64N(1<<40) - 1<<39, CpuShares: r.Uint64(), CpusetCpus: randomString(r)}
	}
	return m
}

func randomSource(r *rand.Rand, depth int) *pb.Source {
	s := &pb.Source{}
	if n := r.IntN(4); n > 0 {
		s.Locations = map[string]*pb.Locations{}
		for range n {
			var locs *pb.Locations
			if r.IntN(4) > 0 {
				locs = &pb.Locations{}
				for range r.IntN(3) {
					loc := &pb.Location{SourceIndex: r.Int32N(5)}
					for range r.IntN(3) {
						loc.Ranges = append(loc.Ranges, &pb.Range{
							Start: &pb.Position{Line: r.Int32N(100), Character: r.Int32N(3)},
							End:   &pb.Position{Line: r.Int32N(100)}})
					}
					locs.Locations = append(locs.Locations, loc)
				}
			}
			s.Locations[randomString(r)] = locs
		}
	}
	for range r.IntN(3) {
		si := &pb.SourceInfo{Filename: randomString(r), Data: randomBytes(r, 200), Language: randomString(r)}
		if depth > 0 && r.IntN(3) == 0 {
			si.Definition = randomDefinition(r, depth-1).ToPB()
		}
		s.Infos = append(s.Infos, si)
	}
	return s
}

// randomString is often empty, and otherwise a few letters from a small alphabet, so
// keys collide across maps and sort in interesting orders.
func randomString(r *rand.Rand) string {
	const alphabet = "abAB:/é\x00"
	n := r.IntN(5)
	out := make([]rune, n)
	for i := range out {
		out[i] = []rune(alphabet)[r.IntN(len([]rune(alphabet)))]
	}
	return string(out)
}

func randomBytes(r *rand.Rand, max int) []byte {
	b := make([]byte, r.IntN(max))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return b
}
