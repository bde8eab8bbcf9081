package compiler

import (
	"fmt"
	"sync"

	"github.com/moby/buildkit/client/llb"
)

// definitionState is the state a compiled definition stands for, as a dependent's named
// context: the definition's own ops, metadata and source maps (llb.DefinitionOp, what a
// BuildKit frontend receives for a gateway input), or scratch for a config-only build.
// Dependents compile against this whether the dependency was compiled now or read from the
// compile cache, so both give the same bytes.
func definitionState(def *llb.Definition) (llb.State, error) {
	if def == nil {
		return llb.Scratch(), nil
	}
	pdef := def.ToPB()
	if ConfigOnly(pdef) {
		return llb.Scratch(), nil
	}
	op, err := llb.NewDefinitionOp(pdef)
	if err != nil {
		return llb.State{}, fmt.Errorf("load compiled definition: %w", err)
	}
	return llb.NewState(op.Output()), nil
}

// depState is a build's result as a named context of other builds: its definitionState,
// made at most once however many builds use it (900 of 1000 components naming one base
// component made it 1800 times). An llb.State is immutable and its DefinitionOp locks its
// own caches, so the builds share it.
type depState struct {
	def  *llb.Definition
	once sync.Once
	st   llb.State
	err  error
}

// state is definitionState(d.def), made on first use.
func (d *depState) state() (llb.State, error) {
	d.once.Do(func() { d.st, d.err = definitionState(d.def) })
	return d.st, d.err
}
