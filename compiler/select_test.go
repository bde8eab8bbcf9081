package compiler

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func buildIDs(p *Plan) []string {
	var out []string
	for _, b := range p.Builds {
		out = append(out, b.ID)
	}
	return out
}

// TestSelect: the selected builds plus their dependencies for the same platform; the rest
// listed as not selected. app uses base as a named context.
func TestSelect(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	full := compileProject(t, dir)
	for _, tc := range []struct {
		name                  string
		components, platforms []string
		want, not             []string
	}{
		{"everything", nil, nil, buildIDs(full), nil},
		{"dependency for both platforms", []string{"app"}, nil,
			[]string{"app/linux/amd64", "app/linux/arm64", "base/linux/amd64", "base/linux/arm64"}, []string{"static/linux/amd64"}},
		{"dependency for the selected platform", []string{"app"}, []string{"linux/arm64"},
			[]string{"app/linux/arm64", "base/linux/arm64"}, []string{"app/linux/amd64", "base/linux/amd64", "static/linux/amd64"}},
		{"a platform across components", nil, []string{"linux/amd64"},
			[]string{"app/linux/amd64", "base/linux/amd64", "static/linux/amd64"}, []string{"app/linux/arm64", "base/linux/arm64"}},
		{"a dependency alone builds nothing that uses it", []string{"base"}, []string{"linux/amd64"},
			[]string{"base/linux/amd64"}, []string{"app/linux/amd64", "app/linux/arm64", "base/linux/arm64", "static/linux/amd64"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sel, err := NewSelection(s, tc.components, tc.platforms)
			require.NoError(t, err)
			plan := compileProject(t, dir)
			require.NoError(t, plan.Select(s, sel))
			assert.Equal(t, tc.want, buildIDs(plan))
			assert.Equal(t, tc.not, plan.NotSelected)
			assert.Equal(t, sel, plan.Selection)
		})
	}
}

func TestNewSelectionErrors(t *testing.T) {
	t.Parallel()
	s := projectSpec(t, copyProject(t))
	sel, err := NewSelection(s, []string{"app", "base", "app"}, []string{"linux/aarch64", "linux/arm64"})
	require.NoError(t, err)
	assert.Equal(t, Selection{Components: []string{"app", "base"}, Platforms: []string{"linux/arm64"}}, sel, "sorted, normalized, once each")

	_, err = NewSelection(s, []string{"bsae"}, nil)
	var uc *UnknownComponentError
	require.ErrorAs(t, err, &uc)
	assert.Equal(t, "base", uc.Suggestion)
	assert.Equal(t, []string{"app", "base", "static"}, uc.Known)
	assert.Contains(t, err.Error(), `Did you mean "base"?`)

	_, err = NewSelection(s, []string{"static"}, []string{"linux/arm64"})
	var up *UndeclaredPlatformError
	require.ErrorAs(t, err, &up)
	assert.Equal(t, "static", up.Component)
	assert.Equal(t, []string{"linux/amd64"}, up.Declared)

	_, err = NewSelection(s, nil, []string{"windows/amd64"})
	require.ErrorAs(t, err, &up)
	assert.Empty(t, up.Component)
	assert.Equal(t, []string{"linux/amd64", "linux/arm64"}, up.Declared)
}

// TestPlanFileSelection: a saved selection is loaded and selected again by Match; a spec
// that lost the selected component refuses the file.
func TestPlanFileSelection(t *testing.T) {
	t.Parallel()
	dir := copyProject(t)
	s := projectSpec(t, dir)
	plan := compileProject(t, dir)
	sel, err := NewSelection(s, []string{"app"}, []string{"linux/arm64"})
	require.NoError(t, err)
	require.NoError(t, plan.Select(s, sel))
	path := filepath.Join(dir, "sel.plan")
	require.NoError(t, NewPlanFile(plan, s.Files).Save(path))

	f, err := LoadPlanFile(path)
	require.NoError(t, err)
	assert.Equal(t, sel, f.Plan.Selection)
	assert.Equal(t, plan.NotSelected, f.Plan.NotSelected)
	got, err := f.Match(context.Background(), s, newFakeImages())
	require.NoError(t, err)
	assert.Equal(t, []string{"app/linux/arm64", "base/linux/arm64"}, buildIDs(got))
	assert.Len(t, f.Lock, 3, "the pins of the selected builds")

	other := projectSpec(t, dir)
	other.Components[2].Name = "web"
	_, err = f.Match(context.Background(), other, newFakeImages())
	require.ErrorIs(t, err, ErrMismatch)
	var uc *UnknownComponentError
	assert.True(t, errors.As(err, &uc), "%v", err)
}
