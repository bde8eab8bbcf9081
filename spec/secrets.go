package spec

import (
	"strings"

	"github.com/hashicorp/hcl/v2"
)

type secretBody struct {
	Env  string `hcl:"env,optional"`
	File string `hcl:"file,optional"`
}

type sshBody struct {
	Paths []string `hcl:"paths,optional"`
}

// secret evaluates one secret block. Its file is not checked here: CI often writes a
// secret file just before apply, after plan ran, so apply checks that the source exists and
// is not empty when it serves the secret. The value is never read by the spec.
func (e *evaluator) secret(b *mergedBlock) (Secret, hcl.Diagnostics) {
	var raw secretBody
	diags := e.decode(b, &raw)
	s := Secret{ID: b.Name(), Env: raw.Env, Range: b.DefRange}
	envA, fileA := attr(b, "env"), attr(b, "file")
	switch {
	case envA != nil && fileA != nil:
		return s, append(diags, errorAt(fileA.NameRange, "Two secret sources",
			"secret %q sets both env and file; a secret is read from one of them.", s.ID))
	case envA == nil && fileA == nil:
		return s, append(diags, errorAt(b.DefRange, "Secret without a source",
			"secret %q needs env = \"NAME\" (an environment variable) or file = \"path\".", s.ID))
	case envA != nil && !hasErrorAt(diags, envA.Expr.Range()):
		if msg := checkEnvName(raw.Env); msg != "" {
			diags = append(diags, errorAt(envA.Expr.Range(), "Invalid environment variable name", "secret %q: %s", s.ID, msg))
		}
	case fileA != nil && !hasErrorAt(diags, fileA.Expr.Range()):
		if raw.File == "" {
			diags = append(diags, errorAt(fileA.Expr.Range(), "Empty secret file", "secret %q: file is empty; name the file that holds the value.", s.ID))
		} else {
			s.File = e.path(fileA.Expr.Range(), raw.File)
		}
	}
	return s, diags
}

// checkEnvName says what is wrong with an environment variable name, or "". Names are the
// portable ones (letters, digits, _), which catches "$NAME" and "NAME=value" written where
// the name goes.
func checkEnvName(name string) string {
	if name == "" {
		return "env is empty; name the environment variable that holds the value."
	}
	if strings.HasPrefix(name, "$") {
		return "write the variable's name without $: env = \"" + strings.Trim(name, "${}") + "\"."
	}
	for i, r := range name {
		ok := r == '_' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return "env is the name of an environment variable (letters, digits and _, not starting with a digit), not its value."
		}
	}
	return ""
}

// ssh evaluates one ssh block. Like secret files, keys and sockets are checked by apply,
// which reads them.
func (e *evaluator) ssh(b *mergedBlock) (SSH, hcl.Diagnostics) {
	var raw sshBody
	diags := e.decode(b, &raw)
	s := SSH{ID: b.Name(), Range: b.DefRange}
	a := attr(b, "paths")
	if a == nil || raw.Paths == nil {
		return s, diags
	}
	if len(raw.Paths) == 0 {
		return s, append(diags, errorAt(a.Expr.Range(), "Empty paths",
			"ssh %q: paths is empty; remove it to forward the agent at SSH_AUTH_SOCK.", s.ID))
	}
	for i, p := range raw.Paths {
		if p == "" {
			diags = append(diags, errorAt(elemRange(a.Expr, i), "Empty ssh path",
				"ssh %q: an entry of paths is empty; name an agent socket or a private key file.", s.ID))
			continue
		}
		s.Paths = append(s.Paths, e.path(a.Expr.Range(), p))
	}
	return s, diags
}

// buildPlatforms evaluates build_platforms; nil when absent (this machine's platform).
func (e *evaluator) buildPlatforms(a *hcl.Attribute) ([]string, hcl.Diagnostics) {
	if a == nil {
		return nil, nil
	}
	list, diags := e.topList(a)
	if diags.HasErrors() {
		return nil, diags
	}
	out, d := normalizePlatforms(list, a.Expr)
	return out, append(diags, d...)
}
