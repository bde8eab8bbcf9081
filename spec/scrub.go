package spec

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// minSensitiveLen is the shortest sensitive value Scrub hides wherever it appears: a
// shorter one would turn unrelated text into "(sensitive)" and could not be hidden anyway.
const minSensitiveLen = 3

// Scrub hides what must not be shown in text derived from the spec: every string value of
// a sensitive variable (as written and JSON-escaped) becomes "(sensitive)", wherever it
// went (args, labels, ...), and URL credentials are masked. Values transformed by a
// function (base64encode(var.X)) are not recognised: keep secrets out of build args.
func (s *Spec) Scrub(text string) string { return s.Scrubber()(text) }

// Scrubber returns Scrub with its replacements prepared once, for views that scrub many
// values.
func (s *Spec) Scrubber() func(string) string {
	var olds []string
	if s != nil {
		for _, v := range s.Variables {
			if v.Sensitive {
				olds = append(olds, ctyStrings(v.Cty)...)
			}
		}
	}
	// Longest first: a value that contains another is replaced whole.
	sort.Slice(olds, func(i, j int) bool { return len(olds[i]) > len(olds[j]) })
	var pairs []string
	for _, o := range olds {
		if len(o) < minSensitiveLen {
			continue
		}
		pairs = append(pairs, o, sensitiveValue)
		if b, err := json.Marshal(o); err == nil {
			if esc := string(b[1 : len(b)-1]); esc != o {
				pairs = append(pairs, esc, sensitiveValue)
			}
		}
	}
	if len(pairs) == 0 {
		return RedactText
	}
	r := strings.NewReplacer(pairs...)
	return func(text string) string { return RedactText(r.Replace(text)) }
}

// ctyStrings returns the string forms of v's leaves (strings, numbers, bools).
func ctyStrings(v cty.Value) []string {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return []string{v.AsString()}
	case ty == cty.Number:
		return []string{v.AsBigFloat().Text('f', -1)}
	case ty.IsListType() || ty.IsSetType() || ty.IsTupleType() || ty.IsMapType() || ty.IsObjectType():
		var out []string
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, ctyStrings(e)...)
		}
		return out
	}
	return nil
}
