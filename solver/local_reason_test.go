package solver

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRestartReason(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, startedBy, spec string
		want                  []string
		not                   []string
	}{
		{"same spec, settings edited", "/src/shop/archbuild.hcl", "/src/shop/archbuild.hcl",
			[]string{"builder local: registry/proxy settings changed since it started"}, []string{"another spec"}},
		{"started before the record existed", "", "/src/shop/archbuild.hcl",
			[]string{"settings changed since it started"}, []string{"another spec"}},
		{"another project", "/src/blog/archbuild.hcl", "/src/My Shop/archbuild.hcl",
			[]string{"builder local: it was started for another spec (/src/blog/archbuild.hcl)", "this spec's (/src/My Shop/archbuild.hcl)",
				`builder "my-shop" {} in its spec`}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := restartReason("local", tc.startedBy, tc.spec)
			for _, w := range tc.want {
				assert.Contains(t, got, w)
			}
			for _, n := range tc.not {
				assert.NotContains(t, got, n)
			}
		})
	}
	assert.Equal(t, "myproj", projectBuilderName("/archbuild.hcl"))
}
