package compiler

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/archc-dev/archc/spec"
	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
)

// Secret source kinds recorded in the plan (Build.Secrets).
const (
	SecretFromEnv  = "env"
	SecretFromFile = "file"
)

// secretSources maps each secret comp lists to its source kind; nil for none. spec
// validation guarantees each id names a secret block.
func secretSources(s *spec.Spec, comp *spec.Component) map[string]string {
	if len(comp.Secrets) == 0 {
		return nil
	}
	out := make(map[string]string, len(comp.Secrets))
	for _, id := range comp.Secrets {
		out[id] = ""
		for _, sec := range s.Secrets {
			if sec.ID == id {
				out[id] = SecretFromFile
				if sec.Env != "" {
					out[id] = SecretFromEnv
				}
			}
		}
	}
	return out
}

// sortedIDs is a sorted copy of ids; nil for none.
func sortedIDs(ids []string) []string {
	if len(ids) == 0 {
		return nil
	}
	out := append([]string(nil), ids...)
	sort.Strings(out)
	return out
}

// ErrMissingMount is wrapped by the compile's error when a step mounts a secret or an ssh
// agent that its component does not provide.
var ErrMissingMount = errors.New("a build step needs a secret or ssh agent the component does not provide")

// checkMounts refuses a definition whose steps need a secret or ssh id that b does not
// provide (b.Secrets, b.SSH). BuildKit would otherwise fail only at apply time, after
// other builds ran, or, for a mount without `required`, run the step with nothing mounted:
// a Dockerfile's secret and ssh mounts are optional unless marked required=true, so the
// LLB cannot tell "required=false" from "not said". Only a mount the Dockerfile marks
// required=false explicitly is skipped (explicitlyOptional). Every missing id is named
// with the Dockerfile file, line and instruction of its step and the fix.
func checkMounts(s *spec.Spec, b *Build, ops *defOps) error {
	def := ops.def
	provided := map[string]bool{}
	for id := range b.Secrets {
		provided["secret "+id] = true
	}
	for _, id := range b.SSH {
		provided["ssh "+id] = true
	}
	var problems []string
	seen := map[string]bool{}
	ops.execs(func(dgst digest.Digest, exec *pb.ExecOp) {
		// The step's source is looked up (the Dockerfile split into lines) only for a need
		// the component does not provide: almost every step has none.
		var step sourceStep
		found, looked := false, false
		for _, need := range execNeeds(exec) {
			if provided[need.kind+" "+need.id] {
				continue
			}
			if !looked {
				step, found = stepSource(def, dgst)
				looked = true
			}
			// Without a source map (a named context's ops, written by no Dockerfile of this
			// spec), trust the LLB's flag.
			if need.optional && (!found || explicitlyOptional(step.text, need)) {
				continue
			}
			where := b.Dockerfile
			if found {
				where = step.String()
			}
			p := fmt.Sprintf("%s %s: %s", where, need.what(), need.fix(s, b.Component))
			if !seen[p] {
				seen[p] = true
				problems = append(problems, p)
			}
		}
	})
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("%w:\n  %s", ErrMissingMount, strings.Join(problems, "\n  "))
}

// mountNeed is one secret or ssh id a step mounts.
type mountNeed struct {
	kind     string // "secret" or "ssh"
	id       string
	env      string // the variable of a secret mounted as env=NAME
	optional bool   // the LLB's flag: required=false, or required not given
}

func (n mountNeed) what() string {
	if n.env != "" {
		return fmt.Sprintf("needs secret %q (as $%s)", n.id, n.env)
	}
	return fmt.Sprintf("needs %s %q", n.kind, n.id)
}

// fix says what the spec lacks: the component's list entry, and the block when the spec has
// none with that id.
func (n mountNeed) fix(s *spec.Spec, component string) string {
	declared := false
	if n.kind == "secret" {
		for _, x := range s.Secrets {
			declared = declared || x.ID == n.id
		}
		block := fmt.Sprintf(` and a block secret %q { env = "NAME" } (or file = "path")`, n.id)
		if declared {
			block = ""
		}
		return fmt.Sprintf(`component %s does not provide it: add secrets = [%q] to the component%s, or mark the mount required=false`, component, n.id, block)
	}
	for _, x := range s.SSH {
		declared = declared || x.ID == n.id
	}
	block := fmt.Sprintf(` and a block ssh %q {} (the agent at SSH_AUTH_SOCK, or paths = [...])`, n.id)
	if declared {
		block = ""
	}
	return fmt.Sprintf(`component %s does not provide it: add ssh = [%q] to the component%s, or mark the mount required=false`, component, n.id, block)
}

// defaultSSHID is the id of `RUN --mount=type=ssh` without id=.
const defaultSSHID = "default"

// execNeeds lists the secret and ssh ids one exec op mounts.
func execNeeds(exec *pb.ExecOp) []mountNeed {
	var out []mountNeed
	for _, m := range exec.Mounts {
		switch m.MountType {
		case pb.MountType_SECRET:
			if o := m.SecretOpt; o != nil {
				out = append(out, mountNeed{kind: "secret", id: o.ID, optional: o.Optional})
			}
		case pb.MountType_SSH:
			if o := m.SSHOpt; o != nil {
				id := o.ID
				if id == "" {
					id = defaultSSHID // as the daemon asks the session for it (sshforward.DefaultID)
				}
				out = append(out, mountNeed{kind: "ssh", id: id, optional: o.Optional})
			}
		}
	}
	for _, e := range exec.Secretenv {
		out = append(out, mountNeed{kind: "secret", id: e.ID, env: e.Name, optional: e.Optional})
	}
	return out
}

// sourceStep is the Dockerfile instruction an op was compiled from.
type sourceStep struct {
	file string
	line int
	text string // the instruction's lines, as written
}

// String is "FILE:LINE (first line of the instruction)". The Dockerfile's own text, not
// the step's name: BuildKit expands build args in names, and a sensitive one would show.
func (s sourceStep) String() string {
	first, _, _ := strings.Cut(s.text, "\n")
	text := []rune(strings.TrimSpace(first))
	if len(text) > 100 {
		text = append(text[:99], '…')
	}
	return fmt.Sprintf("%s:%d (%s)", s.file, s.line, spec.SafeLine(string(text)))
}

// stepLocation is "FILE:LINE (INSTRUCTION)" of the op dgst, or fallback when the
// definition's source map does not locate it.
func stepLocation(def *llb.Definition, dgst digest.Digest, fallback string) string {
	if step, ok := stepSource(def, dgst); ok {
		return step.String()
	}
	return fallback
}

// stepSource finds the instruction of the op dgst through the definition's source map.
func stepSource(def *llb.Definition, dgst digest.Digest) (sourceStep, bool) {
	if def.Source == nil || def.Source.Locations[dgst.String()] == nil {
		return sourceStep{}, false
	}
	for _, l := range def.Source.Locations[dgst.String()].Locations {
		if int(l.SourceIndex) >= len(def.Source.Infos) || len(l.Ranges) == 0 || l.Ranges[0].Start == nil {
			continue
		}
		info, r := def.Source.Infos[l.SourceIndex], l.Ranges[0]
		lines := strings.Split(string(info.Data), "\n")
		first, last := int(r.Start.Line), int(r.Start.Line)
		if r.End != nil && int(r.End.Line) > last {
			last = int(r.End.Line)
		}
		if first < 1 || last > len(lines) {
			continue
		}
		return sourceStep{file: info.Filename, line: first, text: strings.Join(lines[first-1:last], "\n")}, true
	}
	return sourceStep{}, false
}

// secretList is the text view's secrets line: "npm_token (env), tok (file)".
func secretList(sources map[string]string) string {
	parts := make([]string, 0, len(sources))
	for id, src := range sources {
		parts = append(parts, fmt.Sprintf("%s (%s)", id, src))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
