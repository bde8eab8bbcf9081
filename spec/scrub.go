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
				for _, o := range ctyStrings(v.Cty) {
					olds = append(olds, o)
					if b, err := json.Marshal(o); err == nil {
						olds = append(olds, string(b[1:len(b)-1]))
					}
				}
			}
		}
	}
	hide := Hider(olds, sensitiveValue)
	if hide == nil {
		return RedactText
	}
	return func(text string) string { return RedactText(hide(text)) }
}

// Hider returns a function that replaces each of values in a text with token, or nil when
// none is worth hiding. A value shorter than 3 bytes is left alone (it would turn unrelated
// text into token and could not be hidden anyway); the longest go first, so a value that
// contains another is hidden whole. The spec's sensitive variables and the solver's build
// secrets are hidden by it.
func Hider(values []string, token string) func(string) string {
	seen := map[string]bool{}
	var olds []string
	for _, v := range values {
		if len(v) >= minSensitiveLen && !seen[v] {
			seen[v] = true
			olds = append(olds, v)
		}
	}
	if len(olds) == 0 {
		return nil
	}
	sort.SliceStable(olds, func(i, j int) bool { return len(olds[i]) > len(olds[j]) })
	pairs := make([]string, 0, 2*len(olds))
	for _, o := range olds {
		pairs = append(pairs, o, token)
	}
	return strings.NewReplacer(pairs...).Replace
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
