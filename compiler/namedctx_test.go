package compiler

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/archc-dev/archc/spec"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNamedContextsShown: a FROM or --from served by a named context is recorded on the
// build and shown by the text and JSON views as where it comes from; a context the
// compiled Dockerfile takes nothing from is left out.
func TestNamedContextsShown(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		dockerfile string
		contexts   []spec.NamedContext
		want       map[string]string
	}{
		{name: "FROM a component", dockerfile: "FROM base\nRUN true\n",
			contexts: []spec.NamedContext{{Name: "base", Component: "app"}},
			want:     map[string]string{"base": "component.app"}},
		{name: "COPY --from a component", dockerfile: "FROM alpine\nCOPY --from=base /etc /etc\n",
			contexts: []spec.NamedContext{{Name: "base", Component: "app"}},
			want:     map[string]string{"base": "component.app"}},
		{name: "image and directory", dockerfile: "FROM tools\nCOPY --from=assets / /assets\n",
			contexts: []spec.NamedContext{{Name: "tools", Image: "busybox:1.36"}, {Name: "assets", Path: "assets"}},
			want:     map[string]string{"tools": "docker-image://busybox:1.36", "assets": "assets"}},
		{name: "stage the target does not build", dockerfile: "FROM base AS unused\nRUN true\nFROM alpine\nRUN true\n",
			contexts: []spec.NamedContext{{Name: "base", Component: "app"}, {Name: "tools", Image: "busybox:1.36"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := oneComponent(t, "FROM alpine\nRUN echo app\n", spec.Component{})
			web := s.Components[0]
			web.Name, web.Dockerfile = "web", filepath.Join(s.Dir, "web.Dockerfile")
			require.NoError(t, os.WriteFile(web.Dockerfile, []byte(tt.dockerfile), 0o644))
			for _, nc := range tt.contexts {
				if nc.Path != "" {
					nc.Path = filepath.Join(s.Dir, nc.Path)
				}
				web.Contexts = append(web.Contexts, nc)
			}
			web.DependsOn = []string{"app"}
			s.Components = append(s.Components, web)
			plan, err := Compile(context.Background(), s, newFakeImages(), WithBuildPlatform("linux/amd64"))
			require.NoError(t, err)

			var text, js bytes.Buffer
			tv, _ := NewView("text", nil)
			require.NoError(t, tv.Plan(&text, plan))
			jv, _ := NewView("json", nil)
			require.NoError(t, jv.Plan(&js, plan))
			var got JSONPlan
			require.NoError(t, json.Unmarshal(js.Bytes(), &got))
			for _, b := range got.Builds {
				if b.Component != "web" {
					assert.Nil(t, b.NamedContexts, b.ID)
					continue
				}
				assert.Equal(t, tt.want, b.NamedContexts, b.ID)
			}
			for name, from := range tt.want {
				assert.Contains(t, text.String(), "  from        "+name+" ← "+from+" (named context)\n")
			}
			if tt.want == nil {
				assert.NotContains(t, text.String(), "(named context)")
			}
		})
	}
}
