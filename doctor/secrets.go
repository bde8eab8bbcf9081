package doctor

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/archc-dev/archc/solver"
)

// secretsTimeout bounds reading the secret sources and asking each ssh agent.
const secretsTimeout = 5 * time.Second

// secretsCheck reads every secret and ssh source the components use, with the function
// apply calls before it builds anything (solver.NewJobSecrets): an unset variable, an empty
// or missing file, or an agent that does not answer fails here as it fails apply. The values
// are read and dropped, never shown.
func (e *env) secretsCheck() []Check {
	ids := map[string]bool{}
	for _, c := range e.s.Components {
		for _, id := range c.Secrets {
			ids["secret "+id] = true
		}
		for _, id := range c.SSH {
			ids["ssh "+id] = true
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return []Check{{Name: "secrets", Timeout: secretsTimeout, Run: func(context.Context) Finding {
		checked := fmt.Sprintf("the sources of %d secret and ssh ids the components use", len(ids))
		if e.offline == nil {
			return Finding{Verdict: Warn, Checked: checked, Cause: "not checked: the Dockerfiles did not compile",
				Fix: "fix the Dockerfile (the lock check says the same)"}
		}
		jobs, err := e.jobs()
		if err != nil {
			return Finding{Verdict: Warn, Checked: checked, Cause: "not checked: " + err.Error()}
		}
		if _, err := solver.NewJobSecrets(e.s, e.offline, jobs, os.LookupEnv); err != nil {
			return Finding{Verdict: Fail, Checked: checked, Cause: err.Error(),
				Fix: "set the variable or create the file the secret block names (or start the ssh agent) before `archc apply`"}
		}
		return Finding{Verdict: OK, Checked: checked + ": every one is set, not empty, and every agent answers"}
	}}}
}
