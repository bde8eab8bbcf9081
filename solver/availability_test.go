package solver

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/archc-dev/archc/spec"
)

// farmSpec: two amd64 nodes, one arm64 node, one open node; app builds both platforms,
// pinned is pinned to amd-2.
func farmSpec(mod func(*spec.Spec)) *spec.Spec {
	s := &spec.Spec{
		Builders: []spec.Builder{
			{Name: "amd-1", Address: "tcp://127.0.0.1:1", Platforms: []string{"linux/amd64"}},
			{Name: "amd-2", Address: "tcp://127.0.0.1:2", Platforms: []string{"linux/amd64"}},
			{Name: "arm", Address: "tcp://127.0.0.1:3", Platforms: []string{"linux/arm64"}},
		},
		Components: []spec.Component{
			{Name: "app", Platforms: []string{"linux/amd64", "linux/arm64"}},
			{Name: "pinned", Platforms: []string{"linux/amd64"}, Builder: "amd-2"},
		},
	}
	if mod != nil {
		mod(s)
	}
	return s
}

func farmBuilder(s *spec.Spec, name string, workers ...string) *Builder {
	sb := s.Builder(name)
	b := &Builder{Name: name, Address: sb.Address, Declared: sb.Platforms}
	for _, w := range workers {
		b.Workers = append(b.Workers, plat(w))
	}
	return b
}

func TestCandidates(t *testing.T) {
	t.Parallel()
	s := farmSpec(func(s *spec.Spec) {
		s.Builders = append(s.Builders, spec.Builder{Name: "open", Address: "tcp://127.0.0.1:4"})
	})
	amd1, amd2 := farmBuilder(s, "amd-1", "amd64", "arm64"), farmBuilder(s, "amd-2", "amd64")
	arm, open := farmBuilder(s, "arm", "arm64"), farmBuilder(s, "open", "amd64", "arm64")
	tests := []struct {
		name       string
		up         []*Builder
		comp, plat string
		want       []string
		fallback   bool
	}{
		{"declared, in spec order", []*Builder{amd1, amd2, arm, open}, "app", "linux/amd64", []string{"amd-1", "amd-2", "open"}, false},
		{"native before an open node's emulation", []*Builder{amd1, amd2, arm, open}, "app", "linux/arm64", []string{"arm"}, false},
		{"an open node emulates when the native one is down", []*Builder{amd1, amd2, open}, "app", "linux/arm64", []string{"open"}, false},
		{"declared elsewhere but emulating: the fallback", []*Builder{amd1, amd2}, "app", "linux/arm64", []string{"amd-1"}, true},
		{"pinned", []*Builder{amd1, amd2, arm}, "pinned", "linux/amd64", []string{"amd-2"}, false},
		{"pinned and down: nothing", []*Builder{amd1, arm}, "pinned", "linux/amd64", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, fb := Candidates(s, tc.up, tc.comp, tc.plat)
			var names []string
			for _, b := range got {
				names = append(names, b.Name)
			}
			assert.Equal(t, tc.want, names)
			assert.Equal(t, tc.fallback, fb)
		})
	}
}

func TestAvailability(t *testing.T) {
	t.Parallel()
	need := map[string][]string{"app": {"linux/amd64", "linux/arm64"}}
	refused := errors.New(`builder "amd-2": connect tcp://127.0.0.1:2: connection refused`)

	t.Run("a down node's work goes to the others", func(t *testing.T) {
		t.Parallel()
		s := farmSpec(nil)
		warns, err := Availability(s, []*Builder{farmBuilder(s, "amd-1", "amd64"), farmBuilder(s, "arm", "arm64")},
			map[string]error{"amd-2": refused}, need)
		require.NoError(t, err)
		assert.Equal(t, []string{`builder "amd-2" (tcp://127.0.0.1:2) is down: connect tcp://127.0.0.1:2: connection refused; its work goes to amd-1`}, warns)
	})
	t.Run("a required node down fails", func(t *testing.T) {
		t.Parallel()
		s := farmSpec(func(s *spec.Spec) { s.Builders[1].Required = true })
		_, err := Availability(s, []*Builder{farmBuilder(s, "amd-1", "amd64"), farmBuilder(s, "arm", "arm64")},
			map[string]error{"amd-2": refused}, need)
		require.Error(t, err)
		assert.Contains(t, err.Error(), `builder "amd-2" (tcp://127.0.0.1:2) is required (required = true) and is down`)
		assert.ErrorIs(t, err, refused)
	})
	t.Run("a platform left without a builder fails, naming it", func(t *testing.T) {
		t.Parallel()
		s := farmSpec(nil)
		_, err := Availability(s, []*Builder{farmBuilder(s, "amd-1", "amd64"), farmBuilder(s, "amd-2", "amd64")},
			map[string]error{"arm": errors.New("connection refused")}, need)
		var ee *EmulationError
		require.ErrorAs(t, err, &ee)
		assert.Equal(t, []string{"linux/arm64"}, ee.Platforms)
		assert.Contains(t, ee.Cause, "linux/arm64 is needed by app")
		assert.Contains(t, ee.Cause, `builder "arm" is down: connection refused`)
		assert.Len(t, ee.Fixes, 2)
	})
	t.Run("emulation fallback warns", func(t *testing.T) {
		t.Parallel()
		s := farmSpec(nil)
		warns, err := Availability(s, []*Builder{farmBuilder(s, "amd-1", "amd64", "arm64"), farmBuilder(s, "amd-2", "amd64")},
			map[string]error{"arm": errors.New("connection refused")}, need)
		require.NoError(t, err)
		assert.Equal(t, []string{
			`builder "arm" (tcp://127.0.0.1:3) is down: connection refused; its work goes to amd-1`,
			"no builder for linux/arm64 is up: app run by emulation on amd-1",
		}, warns)
	})
	t.Run("a pinned component's builder down fails", func(t *testing.T) {
		t.Parallel()
		s := farmSpec(nil)
		_, err := Availability(s, []*Builder{farmBuilder(s, "amd-1", "amd64"), farmBuilder(s, "arm", "arm64")},
			map[string]error{"amd-2": refused}, map[string][]string{"pinned": {"linux/amd64"}})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `component pinned is pinned to builder "amd-2"`)
	})
	t.Run("a down node with no work", func(t *testing.T) {
		t.Parallel()
		s := farmSpec(nil)
		warns, err := Availability(s, []*Builder{farmBuilder(s, "amd-1", "amd64"), farmBuilder(s, "amd-2", "amd64")},
			map[string]error{"arm": errors.New("connection refused")}, map[string][]string{"app": {"linux/amd64"}})
		require.NoError(t, err)
		assert.Equal(t, []string{`builder "arm" (tcp://127.0.0.1:3) is down: connection refused; it has no work in this run`}, warns)
	})
}

// TestAssess: the decision Availability prints, as data. A skipped builder's fields hold
// its error text whole, whatever it says ("; " included), and its warning is built from
// them; the other warnings name no down builder.
func TestAssess(t *testing.T) {
	t.Parallel()
	s := farmSpec(nil)
	need := map[string][]string{"app": {"linux/amd64", "linux/arm64"}}
	odd := errors.New(`builder "arm": dial tcp 127.0.0.1:3: connect: connection refused; retried; "builder "x" ok"`)
	o, err := Assess(s, []*Builder{farmBuilder(s, "amd-1", "amd64", "arm64"), farmBuilder(s, "amd-2", "amd64")},
		map[string]error{"arm": odd}, need)
	require.NoError(t, err)
	want := Skipped{Name: "arm", Address: "tcp://127.0.0.1:3", Why: `dial tcp 127.0.0.1:3: connect: connection refused; retried; "builder "x" ok"`, GoesTo: []string{"amd-1"}}
	assert.Equal(t, []Skipped{want}, o.Skipped)
	got, ok := o.Skip("arm")
	require.True(t, ok)
	assert.Equal(t, "its work goes to amd-1", got.Where())
	_, ok = o.Skip("amd-1")
	assert.False(t, ok, "an up builder is not skipped")
	assert.Equal(t, []string{"no builder for linux/arm64 is up: app run by emulation on amd-1"}, o.Others)
	warns, err := Availability(s, []*Builder{farmBuilder(s, "amd-1", "amd64", "arm64"), farmBuilder(s, "amd-2", "amd64")},
		map[string]error{"arm": odd}, need)
	require.NoError(t, err)
	assert.Equal(t, o.Warnings(), warns)
	assert.Equal(t, `builder "arm" (tcp://127.0.0.1:3) is down: `+want.Why+"; its work goes to amd-1", warns[0])
	assert.Equal(t, "it has no work in this run", Skipped{Name: "arm"}.Where())
}
