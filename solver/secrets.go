package solver

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/moby/buildkit/session"
	"github.com/moby/buildkit/session/secrets/secretsprovider"

	"github.com/archc-dev/archc/compiler"
	"github.com/archc-dev/archc/spec"
)

// JobSecrets are the secrets and ssh agents each component's solves are given: only the
// ids the component lists (least privilege; a Dockerfile cannot mount another component's
// secret, since BuildKit asks the solve's own session). Secret values are read once, when
// apply starts and before any build does, so a missing source fails the run up front
// instead of a build half way, and the values are known to the progress mask.
type JobSecrets struct {
	sessions map[string][]session.Attachable // by component
	values   []string
}

// Lookup finds an environment variable (os.LookupEnv).
type Lookup func(string) (string, bool)

// NewJobSecrets reads the secrets the plan's builds of jobs' components name
// (compiler.Build.Secrets) from their sources in s, environment variables through
// lookup, and opens the ssh agents or keys they name (Build.SSH; sshAgents). A variable
// that is not set, a file that cannot be read and an empty value are errors naming the
// secret and its source, never the value.
func NewJobSecrets(s *spec.Spec, p *compiler.Plan, jobs []*Job, lookup Lookup) (*JobSecrets, error) {
	js := &JobSecrets{sessions: map[string][]session.Attachable{}}
	secretIDs, sshIDs := map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, j := range jobs {
		secretIDs[j.Component], sshIDs[j.Component] = map[string]bool{}, map[string]bool{}
	}
	for _, b := range p.Builds {
		if secretIDs[b.Component] == nil {
			continue // not built in this run
		}
		for id := range b.Secrets {
			secretIDs[b.Component][id] = true
		}
		for _, id := range b.SSH {
			sshIDs[b.Component][id] = true
		}
	}
	read := map[string][]byte{}
	for _, comp := range slices.Sorted(maps.Keys(secretIDs)) {
		if len(secretIDs[comp]) > 0 {
			m := map[string][]byte{}
			for _, id := range slices.Sorted(maps.Keys(secretIDs[comp])) {
				v, ok := read[id]
				if !ok {
					var err error
					if v, err = readSecret(s, id, lookup); err != nil {
						return nil, fmt.Errorf("component %s: %w", comp, err)
					}
					read[id] = v
					js.values = append(js.values, string(v))
				}
				m[id] = v
			}
			js.sessions[comp] = append(js.sessions[comp], secretsprovider.FromMap(m))
		}
		if len(sshIDs[comp]) > 0 {
			a, err := sshAgents(s, slices.Sorted(maps.Keys(sshIDs[comp])), lookup)
			if err != nil {
				return nil, fmt.Errorf("component %s: %w", comp, err)
			}
			js.sessions[comp] = append(js.sessions[comp], a)
		}
	}
	return js, nil
}

// readSecret reads secret id from its source. The error names the id and the source (the
// variable's name, the file's path), never a value.
func readSecret(s *spec.Spec, id string, lookup Lookup) ([]byte, error) {
	var sec *spec.Secret
	for i := range s.Secrets {
		if s.Secrets[i].ID == id {
			sec = &s.Secrets[i]
		}
	}
	var v []byte
	switch {
	case sec == nil:
		return nil, fmt.Errorf("secret %q: the spec has no secret %q block", id, id)
	case sec.Env != "":
		env, ok := lookup(sec.Env)
		if !ok {
			return nil, fmt.Errorf("secret %q: environment variable %s is not set", id, sec.Env)
		}
		v = []byte(env)
	default:
		// Stat first: a FIFO or device would block or never end.
		fi, err := os.Stat(sec.File)
		if err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("not a regular file")
		} else if err == nil && fi.Size() > secretsprovider.MaxSecretSize {
			err = fmt.Errorf("%d bytes, more than BuildKit's limit of %d", fi.Size(), secretsprovider.MaxSecretSize)
		}
		if err == nil {
			v, err = os.ReadFile(sec.File)
		}
		if err != nil {
			return nil, fmt.Errorf("secret %q: read file %s: %w", id, sec.File, unwrapPathError(err))
		}
	}
	if len(v) == 0 {
		return nil, fmt.Errorf("secret %q: %s is empty", id, sourceName(sec))
	}
	if len(v) > secretsprovider.MaxSecretSize {
		return nil, fmt.Errorf("secret %q: %s holds %d bytes, more than BuildKit's limit of %d", id, sourceName(sec), len(v), secretsprovider.MaxSecretSize)
	}
	return v, nil
}

// unwrapPathError drops *os.PathError's own copy of the path the caller already names.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

func sourceName(sec *spec.Secret) string {
	if sec.Env != "" {
		return "environment variable " + sec.Env
	}
	return "file " + sec.File
}

// Session returns the attachables of component's solves: its secrets and ssh agents; nil
// for none (and on a nil JobSecrets).
func (js *JobSecrets) Session(component string) []session.Attachable {
	if js == nil {
		return nil
	}
	return js.sessions[component]
}

// secretMask is what a secret value becomes in progress, logs and errors.
const secretMask = "(secret)"

// Mask returns mask with every secret value hidden too, before mask runs: a build that
// prints a secret (RUN cat /run/secrets/tok) shows "(secret)" in every progress mode and
// error. Each value is hidden whole, without surrounding white space, and line by line (a
// key file's lines can reach a log in separate chunks). Values shorter than 3 bytes are
// left alone: hiding them would garble unrelated text and could not hide them anyway.
func (js *JobSecrets) Mask(mask func(string) string) func(string) string {
	if js == nil || len(js.values) == 0 {
		return mask
	}
	var olds []string
	for _, v := range js.values {
		olds = append(olds, v, strings.TrimSpace(v))
		for _, line := range strings.Split(v, "\n") {
			olds = append(olds, strings.TrimSpace(line))
		}
	}
	hide := spec.Hider(olds, secretMask)
	if hide == nil {
		return mask
	}
	return func(text string) string {
		text = hide(text)
		if mask != nil {
			text = mask(text)
		}
		return text
	}
}

// sessionFor is the session of one of job's solves: the run's attachables (registry auth)
// and the job's own secrets and ssh agents. A new slice each time: solves run concurrently.
func (o RunOptions) sessionFor(job *Job) []session.Attachable {
	out := append([]session.Attachable(nil), o.Session...)
	return append(out, o.Secrets.Session(job.Component)...)
}
