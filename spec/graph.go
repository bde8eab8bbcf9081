package spec

import (
	"container/heap"
	"sort"
	"strconv"
	"strings"
)

// Dependency graphs (locals on locals, components on components) are ordered here, once,
// without recursion and in O((V+E) log V), so a spec with 50,000 locals or a chain of
// 50,000 components costs seconds, not minutes or the stack.

// topoOrder returns names so that each comes after what deps says it needs, ties broken by
// name, and, sorted, the names it could not place because they are in or behind a cycle.
// deps may name unknown names (ignored) and must not list a name twice.
func topoOrder(names []string, deps map[string][]string) (order, stuck []string) {
	known := make(map[string]bool, len(names))
	for _, n := range names {
		known[n] = true
	}
	indeg := make(map[string]int, len(names))
	users := map[string][]string{}
	for _, n := range names {
		for _, d := range deps[n] {
			if known[d] {
				indeg[n]++
				users[d] = append(users[d], n)
			}
		}
	}
	ready := &nameHeap{}
	for _, n := range names {
		if indeg[n] == 0 {
			*ready = append(*ready, n)
		}
	}
	heap.Init(ready)
	order = make([]string, 0, len(names))
	for ready.Len() > 0 {
		n := heap.Pop(ready).(string)
		order = append(order, n)
		for _, u := range users[n] {
			if indeg[u]--; indeg[u] == 0 {
				heap.Push(ready, u)
			}
		}
	}
	for _, n := range names {
		if indeg[n] > 0 {
			stuck = append(stuck, n)
		}
	}
	sort.Strings(stuck)
	return order, stuck
}

type nameHeap []string

func (h nameHeap) Len() int           { return len(h) }
func (h nameHeap) Less(i, j int) bool { return h[i] < h[j] }
func (h nameHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *nameHeap) Push(x any)        { *h = append(*h, x.(string)) }
func (h *nameHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// maxNamedCycles is how many cycles findCycles spells out: each costs its length, and a
// reader fixes the first few before the rest matter.
const maxNamedCycles = 20

// findCycles walks the graph depth-first from each name in order (deps in the order
// written) and returns each distinct cycle it meets, as found, up to maxNamedCycles.
func findCycles(names []string, deps map[string][]string) [][]string {
	const (
		white = iota
		grey
		black
	)
	color := make(map[string]int, len(names))
	for _, n := range names {
		color[n] = white
	}
	type visit struct {
		name string
		next int // index of the next dep to follow
	}
	var cycles [][]string
	reported := map[string]bool{}
	onStack := map[string]int{} // name -> index in stack
	for _, root := range names {
		if color[root] != white {
			continue
		}
		stack := []visit{{name: root}}
		color[root], onStack[root] = grey, 0
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			ds := deps[top.name]
			if top.next == len(ds) {
				color[top.name] = black
				delete(onStack, top.name)
				stack = stack[:len(stack)-1]
				continue
			}
			d := ds[top.next]
			top.next++
			c, known := color[d]
			switch {
			case !known:
			case c == white:
				color[d], onStack[d] = grey, len(stack)
				stack = append(stack, visit{name: d})
			case c == grey && len(cycles) < maxNamedCycles:
				cycle := make([]string, 0, len(stack)-onStack[d])
				for _, v := range stack[onStack[d]:] {
					cycle = append(cycle, v.name)
				}
				if key := canonicalCycle(cycle); !reported[key] {
					reported[key] = true
					cycles = append(cycles, cycle)
				}
			}
		}
	}
	return cycles
}

// canonicalCycle rotates a cycle to start at its smallest name.
func canonicalCycle(cycle []string) string {
	least := 0
	for i, n := range cycle {
		if n < cycle[least] {
			least = i
		}
	}
	return strings.Join(append(append([]string(nil), cycle[least:]...), cycle[:least]...), ",")
}

// cycleText spells a cycle "a -> b -> a" with prefix before each name, eliding the middle
// of a long one so a diagnostic stays readable.
func cycleText(cycle []string, prefix string) string {
	const keep = 8
	names := append(append([]string(nil), cycle...), cycle[0])
	var parts []string
	for i, n := range names {
		if len(names) > 2*keep && i == keep {
			parts = append(parts, "… ("+strconv.Itoa(len(names)-2*keep)+" more)")
		}
		if len(names) > 2*keep && i >= keep && i < len(names)-keep {
			continue
		}
		parts = append(parts, prefix+n)
	}
	return strings.Join(parts, " -> ")
}
