package compiler

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/archc-dev/archc/spec"
)

// UnknownTargetError is a component's target that names no stage of its Dockerfile.
// BuildKit's own error says so with a "did you mean" only for close names; this one lists
// the stages there are, and suggests the closest as a hint.
type UnknownTargetError struct {
	Target string
	// Stages are the Dockerfile's named stages, in order.
	Stages []string
	// Suggestion is the stage closest to Target (spec.Suggest), or "".
	Suggestion string
}

func (e *UnknownTargetError) Error() string {
	msg := fmt.Sprintf("target stage %q could not be found", e.Target)
	if len(e.Stages) == 0 {
		return msg + ": the Dockerfile names no stage (FROM … AS name)"
	}
	return msg + ": the Dockerfile's stages are " + strings.Join(e.Stages, ", ")
}

// Hint is the closest stage, or what target does.
func (e *UnknownTargetError) Hint() string {
	if e.Suggestion != "" {
		return fmt.Sprintf("did you mean target = %q?", e.Suggestion)
	}
	if len(e.Stages) == 0 {
		return "remove target to build the last stage, or name a stage with FROM … AS name"
	}
	return "set target to one of the stages, or remove it to build the last stage"
}

// unknownTarget is err as an *UnknownTargetError when it is the frontend's refusal of
// target, a stage dt does not name; err otherwise. The stage names come from BuildKit's
// own parser (instructions.Parse), run only on that failure: the compile itself has no
// second reader of Dockerfiles.
func unknownTarget(target string, dt []byte, err error) error {
	if target == "" || !strings.Contains(err.Error(), fmt.Sprintf("target stage %q could not be found", target)) {
		return err
	}
	ast, perr := parser.Parse(bytes.NewReader(dt))
	if perr != nil {
		return err
	}
	stages, _, perr := instructions.Parse(ast.AST, nil)
	if perr != nil {
		return err
	}
	ute := &UnknownTargetError{Target: target}
	known := map[string]bool{}
	for _, st := range stages {
		if st.Name != "" && !known[st.Name] {
			known[st.Name] = true
			ute.Stages = append(ute.Stages, st.Name)
		}
	}
	ute.Suggestion = spec.Suggest(strings.ToLower(target), known)
	return ute
}
