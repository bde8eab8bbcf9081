package compiler

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/archc-dev/archc/spec"
	digest "github.com/opencontainers/go-digest"
)

// maxMismatches bounds the differences Match lists: an edited file is refused either way,
// and a reviewer needs the first few, not a screenful.
const maxMismatches = 20

// blobKeys are the plan file's fields holding bytes (base64 in JSON). A definition holds
// the build args, sensitive ones included, so blobs are shown by digest, never decoded.
var blobKeys = map[string]bool{"definition": true, "image_config": true}

// treeDiff compares two decoded JSON documents, the plan file as read ("the file") and
// the one the spec produces ("the spec"), and says in words where they differ.
type treeDiff struct {
	scrub    Scrub
	problems []string
}

// value compares a (the file) with b (the spec) at path.
func (d *treeDiff) value(path []string, a, b any) {
	switch x := a.(type) {
	case map[string]any:
		if y, ok := b.(map[string]any); ok {
			d.object(path, x, y)
			return
		}
	case []any:
		if y, ok := b.([]any); ok {
			if len(path) == 1 && keys[path[0]] != nil {
				d.keyed(path[0], x, y)
			} else {
				d.array(path, x, y)
			}
			return
		}
	}
	if !jsonEqual(a, b) {
		d.add(path, fmt.Sprintf("the plan file says %s, the spec gives %s", d.show(path, a), d.show(path, b)))
	}
}

func (d *treeDiff) object(path []string, a, b map[string]any) {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		av, inA := a[k]
		bv, inB := b[k]
		p := append(slices.Clip(path), k)
		switch {
		case !inB:
			d.add(p, "the plan file has it, the spec does not produce it")
		case !inA:
			d.add(p, fmt.Sprintf("missing from the plan file, the spec gives %s", d.show(p, bv)))
		default:
			d.value(p, av, bv)
		}
	}
}

func (d *treeDiff) array(path []string, a, b []any) {
	for i := 0; i < max(len(a), len(b)); i++ {
		p := append(slices.Clip(path), "["+strconv.Itoa(i)+"]")
		switch {
		case i >= len(b):
			d.add(p, fmt.Sprintf("the plan file has %s, the spec does not produce it", d.show(p, a[i])))
		case i >= len(a):
			d.add(p, fmt.Sprintf("missing from the plan file, the spec gives %s", d.show(p, b[i])))
		default:
			d.value(p, a[i], b[i])
		}
	}
}

// keys name the elements of the arrays matched by content rather than by position, so a
// difference is named by what it is about (a build by component and platform, a pin by
// reference and platform), and an element one side lacks is said so without shifting the
// others.
var keys = map[string][]string{"builds": {"id"}, "lock": {"ref", "platform"}}

// keyed compares the arrays at top-level field name, matching elements by keys[name].
func (d *treeDiff) keyed(name string, a, b []any) {
	byKey := func(list []any) ([]string, map[string]any) {
		var ids []string
		m := map[string]any{}
		for i, e := range list {
			var parts []string
			if o, ok := e.(map[string]any); ok {
				for _, k := range keys[name] {
					if s, ok := o[k].(string); ok {
						parts = append(parts, s)
					}
				}
			}
			id := strings.Join(parts, " ")
			if len(parts) != len(keys[name]) {
				id = fmt.Sprintf("#%d", i)
			}
			if _, dup := m[id]; dup {
				d.add([]string{name, "[" + id + "]"}, "appears more than once in the plan file")
			}
			ids = append(ids, id)
			m[id] = e
		}
		return ids, m
	}
	aIDs, am := byKey(a)
	bIDs, bm := byKey(b)
	for _, id := range aIDs {
		if _, ok := bm[id]; !ok {
			d.add([]string{name, "[" + id + "]"}, "the plan file has it, the spec does not produce it")
		}
	}
	for _, id := range bIDs {
		av, ok := am[id]
		if !ok {
			d.add([]string{name, "[" + id + "]"}, "the spec produces it, the plan file lacks it")
			continue
		}
		d.value([]string{name, "[" + id + "]"}, av, bm[id])
	}
	if !slices.Equal(aIDs, bIDs) && slices.Equal(slices.Sorted(slices.Values(aIDs)), slices.Sorted(slices.Values(bIDs))) {
		d.add([]string{name}, "in another order than the spec's")
	}
}

func (d *treeDiff) add(path []string, what string) {
	d.problems = append(d.problems, d.name(path)+": "+what)
}

// name is "app (linux/amd64): outputs[0].name" for a build's field, "lock[2].digest" else.
func (d *treeDiff) name(path []string) string {
	var b strings.Builder
	rest := path
	if len(path) >= 2 && path[0] == "builds" && strings.HasPrefix(path[1], "[") {
		id := strings.TrimSuffix(strings.TrimPrefix(path[1], "["), "]")
		comp, plat, _ := strings.Cut(id, "/")
		if plat == "" {
			fmt.Fprintf(&b, "build %s", spec.SafeLine(d.scrub.shown(id)))
		} else {
			fmt.Fprintf(&b, "%s (%s)", spec.SafeLine(d.scrub.shown(comp)), spec.SafeLine(d.scrub.shown(plat)))
		}
		if rest = path[2:]; len(rest) > 0 {
			b.WriteString(": ")
		}
	}
	for i, p := range rest {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(spec.SafeLine(d.scrub.shown(p)))
	}
	return b.String()
}

// show renders a value for a message: blobs by digest and size, strings quoted (which
// escapes control characters), anything else as compact JSON; sensitive values scrubbed,
// long values cut.
func (d *treeDiff) show(path []string, v any) string {
	if v == nil {
		return "nothing"
	}
	if s, ok := v.(string); ok && len(path) > 0 && blobKeys[path[len(path)-1]] {
		dt, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return "a value that is not base64"
		}
		return fmt.Sprintf("%s (%d bytes)", digest.FromBytes(dt), len(dt))
	}
	var text string
	if s, ok := v.(string); ok {
		text = strconv.Quote(d.scrub.shown(s))
	} else {
		dt, _ := json.Marshal(v) // decoded JSON always encodes
		text = spec.SafeLine(d.scrub.shown(string(dt)))
	}
	const limit = 160
	if r := []rune(text); len(r) > limit {
		text = string(r[:limit]) + "…"
	}
	return text
}

func (d *treeDiff) summary() string {
	if len(d.problems) <= maxMismatches {
		return strings.Join(d.problems, "; ")
	}
	return strings.Join(d.problems[:maxMismatches], "; ") + fmt.Sprintf("; and %d more", len(d.problems)-maxMismatches)
}

func jsonEqual(a, b any) bool {
	da, _ := json.Marshal(a)
	db, _ := json.Marshal(b)
	return string(da) == string(db)
}
