package compiler

import (
	"os"
	"reflect"
	"sort"
)

// Diff is what changed between two plans, by build ID. A build is changed when what it
// builds (llb_digest, config_digest, bases, contexts, dependencies) or where the result
// goes (outputs) differs; proxy settings, the host that served a pin, whether a pin was
// resolved by that run, and warnings never count. A build whose only change is where its
// result goes (tags, outputs) is a re-tag, not a rebuild: apply solves it from the cache.
type Diff struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	// Changed are the builds to rebuild: what they build differs.
	Changed []string `json:"changed"`
	// Retagged are the builds that build the same thing (llb and config digests, bases,
	// contexts, dependencies) and only send it elsewhere (outputs: tags, paths).
	Retagged  []string `json:"retagged"`
	Unchanged []string `json:"unchanged"`
	// Reasons lists, per changed or re-tagged build, which fields differ.
	Reasons map[string][]string `json:"reasons,omitempty"`
}

// Empty reports whether nothing was added, removed, changed or re-tagged.
func (d *Diff) Empty() bool {
	return len(d.Added) == 0 && len(d.Removed) == 0 && len(d.Changed) == 0 && len(d.Retagged) == 0
}

// Compare returns the changes from old to new.
func Compare(old, new *JSONPlan) *Diff {
	d := &Diff{Added: []string{}, Removed: []string{}, Changed: []string{}, Retagged: []string{}, Unchanged: []string{}}
	olds := map[string]JSONBuild{}
	for _, b := range old.Builds {
		olds[b.ID] = b
	}
	seen := map[string]bool{}
	for _, nb := range new.Builds {
		seen[nb.ID] = true
		ob, ok := olds[nb.ID]
		if !ok {
			d.Added = append(d.Added, nb.ID)
			continue
		}
		if reasons := buildChanges(ob, nb); len(reasons) > 0 {
			if retag(reasons) {
				d.Retagged = append(d.Retagged, nb.ID)
			} else {
				d.Changed = append(d.Changed, nb.ID)
			}
			if d.Reasons == nil {
				d.Reasons = map[string][]string{}
			}
			d.Reasons[nb.ID] = reasons
		} else {
			d.Unchanged = append(d.Unchanged, nb.ID)
		}
	}
	for id := range olds {
		if !seen[id] {
			d.Removed = append(d.Removed, id)
		}
	}
	for _, l := range [][]string{d.Added, d.Removed, d.Changed, d.Retagged, d.Unchanged} {
		sort.Strings(l)
	}
	return d
}

// buildChanges names the fields of a build that differ, in a fixed order.
func buildChanges(a, b JSONBuild) []string {
	var out []string
	if a.LLBDigest != b.LLBDigest {
		out = append(out, "llb_digest")
	}
	// A plan saved before config_digest existed cannot show that the config is the same:
	// say it changed rather than miss a new ENTRYPOINT.
	if a.ConfigDigest != b.ConfigDigest || a.ConfigDigest == "" {
		out = append(out, "config")
	}
	if !reflect.DeepEqual(pinnedBases(a.Bases), pinnedBases(b.Bases)) {
		out = append(out, "bases")
	}
	if !reflect.DeepEqual(sentContexts(a.Contexts), sentContexts(b.Contexts)) {
		out = append(out, "contexts")
	}
	if !reflect.DeepEqual(a.DependsOn, b.DependsOn) {
		out = append(out, "depends_on")
	}
	if !reflect.DeepEqual(a.Outputs, b.Outputs) {
		out = append(out, "outputs")
	}
	return out
}

// retag reports whether reasons (buildChanges) leave what is built as it was: only the
// outputs moved, so apply exports the same result under new names without a rebuild.
func retag(reasons []string) bool {
	return len(reasons) == 1 && reasons[0] == "outputs"
}

// pinnedBases is what identifies the bases: ref, digest and platform. Which host served a
// pin and whether the run that wrote the plan resolved it say nothing about what is built.
func pinnedBases(bs []JSONBase) []JSONBase {
	out := make([]JSONBase, len(bs))
	for i, x := range bs {
		out[i] = JSONBase{Ref: x.Ref, Digest: x.Digest, Platform: x.Platform}
	}
	return out
}

// sentContexts is what identifies the contexts' content: which ignore file produced it is
// not (a renamed ignore file with the same patterns sends the same bytes), and plans saved
// before ignore_file existed compare equal.
func sentContexts(cs []JSONContext) []JSONContext {
	out := make([]JSONContext, len(cs))
	for i, c := range cs {
		out[i] = JSONContext{Name: c.Name, Path: c.Path, Digest: c.Digest}
	}
	return out
}

// CompareFile compares p with the JSON plan saved at path (plan --format json), which
// hid the values scrub hides.
func CompareFile(path string, p *Plan, scrub Scrub) (*Diff, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	old, err := ReadJSON(f, path)
	if err != nil {
		return nil, err
	}
	return Compare(old, p.JSON(scrub)), nil
}
