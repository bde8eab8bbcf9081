package compiler

import (
	"fmt"

	"github.com/moby/buildkit/client/llb"
)

// definitionState is the state a compiled definition stands for, as a dependent's named
// context: the definition's own ops, metadata and source maps (llb.DefinitionOp, what a
// BuildKit frontend receives for a gateway input), or scratch for a config-only build.
// Dependents compile against this whether the dependency was compiled now or read from the
// compile cache, so both give the same bytes.
func definitionState(def *llb.Definition) (llb.State, error) {
	if def == nil || ConfigOnly(def.ToPB()) {
		return llb.Scratch(), nil
	}
	op, err := llb.NewDefinitionOp(def.ToPB())
	if err != nil {
		return llb.State{}, fmt.Errorf("load compiled definition: %w", err)
	}
	return llb.NewState(op.Output()), nil
}
