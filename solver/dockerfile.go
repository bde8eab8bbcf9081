package solver

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// locateStep finds the Dockerfile line of a failed step from its vertex name
// ("[web linux/arm64] [stage 2/3] RUN make"), for definitions compiled without a source
// map. It returns "" when the instruction is not found.
func locateStep(dockerfile, step string) string {
	instr := step
	for strings.HasPrefix(instr, "[") {
		i := strings.Index(instr, "] ")
		if i < 0 {
			return ""
		}
		instr = instr[i+2:]
	}
	want := strings.Join(strings.Fields(instr), " ")
	if dockerfile == "" || want == "" {
		return ""
	}
	dt, err := os.ReadFile(dockerfile)
	if err != nil {
		return ""
	}
	res, err := parser.Parse(bytes.NewReader(dt))
	if err != nil {
		return ""
	}
	lines := strings.Split(string(dt), "\n")
	for _, n := range res.AST.Children {
		if strings.Join(strings.Fields(n.Original), " ") != want || n.StartLine < 1 || n.EndLine > len(lines) {
			continue
		}
		var sb strings.Builder
		fmt.Fprintf(&sb, "%s:%d\n", relName(dockerfile), n.StartLine)
		for l := n.StartLine; l <= n.EndLine; l++ {
			fmt.Fprintf(&sb, " %4d | >>> %s\n", l, lines[l-1])
		}
		return sb.String()
	}
	return ""
}
