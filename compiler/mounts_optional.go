package compiler

import (
	"encoding/csv"
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// explicitlyOptional reports whether the instruction text (a RUN, as the source map holds
// it) mounts need's id with required=false written out. The LLB marks a mount optional
// both for required=false and for a mount that does not say, and only the first is a
// choice the Dockerfile made; the second is how `cat /run/secrets/tok` passes silently
// with nothing mounted. The flags are read with BuildKit's own parser; an id written with
// a variable ($ID) counts as a match, since the text cannot tell what it expands to.
func explicitlyOptional(text string, need mountNeed) bool {
	res, err := parser.Parse(strings.NewReader(text))
	if err != nil || len(res.AST.Children) == 0 {
		return false
	}
	for _, flag := range res.AST.Children[0].Flags {
		val, ok := strings.CutPrefix(flag, "--mount=")
		if !ok {
			continue
		}
		m, ok := parseMountFlag(val)
		if !ok || m.typ != need.kind || m.required == nil || *m.required {
			continue
		}
		if m.id == need.id || strings.Contains(m.id, "$") {
			return true
		}
	}
	return false
}

// mountFlag is what explicitlyOptional needs of one --mount flag.
type mountFlag struct {
	typ      string
	id       string
	required *bool // nil: not written
}

// parseMountFlag reads a --mount value (CSV key=value fields) as BuildKit's
// instructions.parseMount does for the keys it needs: the type (bind by default), the id
// (secret: id or source, else the target's base name; ssh: id, else "default") and
// required (a bare "required" is true).
func parseMountFlag(val string) (mountFlag, bool) {
	fields, err := csv.NewReader(strings.NewReader(val)).Read()
	if err != nil {
		return mountFlag{}, false
	}
	m := mountFlag{typ: "bind"}
	var id, target string
	for _, f := range fields {
		key, value, hasValue := strings.Cut(f, "=")
		switch strings.ToLower(key) {
		case "type":
			m.typ = strings.ToLower(value)
		case "id", "source", "src":
			id = value
		case "target", "dst", "destination":
			target = value
		case "required":
			req := true
			if hasValue {
				if req, err = strconv.ParseBool(value); err != nil {
					return mountFlag{}, false
				}
			}
			m.required = &req
		}
	}
	switch {
	case id != "":
		m.id = id
	case m.typ == "ssh":
		m.id = defaultSSHID
	case target != "":
		m.id = path.Base(target)
	}
	return m, true
}
