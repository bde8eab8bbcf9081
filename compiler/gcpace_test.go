package compiler

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

// gcPercent reads the collector's pace without changing it.
func gcPercent() int {
	p := debug.SetGCPercent(defaultGCPercent)
	debug.SetGCPercent(p)
	return p
}

// TestPaceCompile: a cold compile runs at the cold pace and a warm one at the default,
// each giving the process its pace back; GOGC in the environment wins. Not parallel: the
// pace is the process's.
func TestPaceCompile(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(gcPercent())

	debug.SetGCPercent(defaultGCPercent)
	restore := paceCompile(coldBuilds)
	assert.Equal(t, coldGCPercent, gcPercent(), "cold compile")
	restore()
	assert.Equal(t, defaultGCPercent, gcPercent(), "restored after a cold compile")

	PaceShortLived()
	assert.Equal(t, coldGCPercent, gcPercent(), "a short-lived command starts at the cold pace")
	restore = paceCompile(coldBuilds - 1)
	assert.Equal(t, defaultGCPercent, gcPercent(), "warm compile: memory is its bound")
	restore()
	assert.Equal(t, coldGCPercent, gcPercent(), "back to the command's pace")

	debug.SetGCPercent(defaultGCPercent)
	t.Setenv("GOGC", "150")
	PaceShortLived()
	restore = paceCompile(coldBuilds)
	assert.Equal(t, defaultGCPercent, gcPercent(), "GOGC set: the pace is left alone")
	restore()
}
