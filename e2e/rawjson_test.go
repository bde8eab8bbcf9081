package e2e

import (
	"bufio"
	"encoding/json"
	"strings"
	"testing"

	"github.com/moby/buildkit/client"
)

// completedVertices reads buildkit's rawjson progress stream and returns, per completed
// vertex name, whether it was cached.
func completedVertices(t *testing.T, stream string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(stream))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var st client.SolveStatus
		if err := json.Unmarshal([]byte(line), &st); err != nil {
			continue
		}
		for _, v := range st.Vertexes {
			if v.Completed != nil && v.Error == "" {
				out[v.Name] = out[v.Name] || v.Cached
			}
		}
	}
	return out
}
