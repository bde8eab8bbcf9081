package main

import (
	"encoding/json"
	"fmt"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

type validateCmd struct {
	specArgs `embed:""`
	JSON     bool `name:"json" help:"Print the normalized spec as JSON: defaults filled, variables resolved, components in dependency order."`
}

func (c *validateCmd) Run(g *Globals) error {
	s, err := c.load(g)
	if err != nil {
		return err
	}
	// Notes go to stderr, as lock prints them: stdout stays the summary or the JSON.
	for _, n := range registry.MirrorSettingNotes(s) {
		fmt.Fprintf(g.Stderr, "archc: note: %s\n", n)
	}
	if c.JSON {
		b, err := json.MarshalIndent(s.Normalized(), "", "  ")
		if err != nil {
			return fmt.Errorf("encode the normalized spec: %w", err)
		}
		// Sensitive values may have flowed into args, labels, ...: hide them there too.
		_, err = fmt.Fprintf(g.Stdout, "%s\n", s.Scrub(string(b)))
		return err
	}
	_, err = fmt.Fprintln(g.Stdout, summary(s))
	return err
}

// summary is validate's one line for people.
func summary(s *spec.Spec) string {
	return fmt.Sprintf("spec OK: %s, %s, %s, %s",
		plural(len(s.Components), "component"), plural(len(s.Platforms), "platform"),
		plural(len(s.Registries), "registry"), plural(len(s.Variables), "variable"))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	if word[len(word)-1] == 'y' {
		return fmt.Sprintf("%d %sies", n, word[:len(word)-1])
	}
	return fmt.Sprintf("%d %ss", n, word)
}
