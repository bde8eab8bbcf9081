package spec

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// TestJSONDecode: jsondecode decodes as go-cty's does (values and error texts), and refuses
// JSON nested deeper than MaxNesting before parsing it.
func TestJSONDecode(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`{"a": [1, "two", true, null], "b": {"c": 1.5}}`,
		`[]`, `"s"`, `12`, `null`, `  [ {"x": "]"} ] `,
		`{"a": `, `[1,]`, `nul`, ``, `{"a": 1} 2`,
	} {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			want, wantErr := stdlib.JSONDecodeFunc.Call([]cty.Value{cty.StringVal(in)})
			got, err := jsonDecodeFunc.Call([]cty.Value{cty.StringVal(in)})
			if wantErr != nil {
				require.Error(t, err)
				assert.Equal(t, wantErr.Error(), err.Error())
				return
			}
			require.NoError(t, err)
			assert.True(t, want.RawEquals(got), "got %#v, want %#v", got, want)
		})
	}
	t.Run("too deep", func(t *testing.T) {
		t.Parallel()
		_, err := jsonDecodeFunc.Call([]cty.Value{cty.StringVal(strings.Repeat("[", MaxNesting+1))})
		assert.ErrorContains(t, err, "JSON nested more than")
	})
}
