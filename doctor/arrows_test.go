package doctor

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestArrows: doctor sits to the right of registry and solver; nothing to its left may
// import it.
func TestArrows(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"../spec", "../registry", "../compiler", "../solver"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		for _, f := range files {
			af, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			require.NoError(t, err)
			for _, imp := range af.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				assert.NotEqual(t, "github.com/archc-dev/archc/doctor", p, "%s imports doctor", f)
			}
		}
	}
}
