package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/archc-dev/archc/registry"
	"github.com/archc-dev/archc/spec"
)

// writeError prints err as reportError does: "archc: " and the message, then each hint
// once. Errors carry what registries answered, Dockerfile lines, tags and paths, so the
// message and hints are escaped (spec.SafeText): none can drive the reader's terminal.
// Lines are kept: a failed build's error ends with its step's last log lines.
func writeError(w io.Writer, err error) {
	fmt.Fprintf(w, "archc: %s\n", elide(spec.SafeText(err.Error()), maxErrorBytes))
	for _, h := range hints(err) {
		fmt.Fprintf(w, "hint: %s\n", h)
	}
}

// maxErrorBytes bounds a printed error. Some errors quote their input whole (BuildKit's
// .dockerignore parser quotes every pattern: a binary .dockerignore made a 3 MB message);
// the start says what failed and the end holds a failed step's last log lines.
const maxErrorBytes = 8 << 10

// elide keeps the first and last parts of s within limit bytes, saying how much it left out.
func elide(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	head, tail := limit*3/4, limit/4
	cut := len(s) - head - tail
	return strings.ToValidUTF8(s[:head], "") + fmt.Sprintf("\n… (%d bytes left out) …\n", cut) +
		strings.ToValidUTF8(s[len(s)-tail:], "")
}

// hinter is an error that says what to do about it. Libraries describe the fix without
// naming archc's flags; cliHint adds them where the CLI knows better.
type hinter interface{ Hint() string }

// withHint gives err the CLI's own hint, which hides any hint inside it (see hints).
func withHint(err error, hint string) error { return registry.WithHint(err, hint) }

// hints are the hints in err's tree (through wrapping and joined errors), outermost first,
// each once, escaped (spec.SafeText). A hint hides the hints of the errors it wraps: the
// outer one knows more.
func hints(err error) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(error)
	walk = func(err error) {
		if err == nil {
			return
		}
		if h, ok := err.(hinter); ok {
			if text := spec.SafeText(cliHint(h)); text != "" {
				if !seen[text] {
					seen[text] = true
					out = append(out, text)
				}
				return
			}
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				walk(e)
			}
		}
	}
	walk(err)
	return out
}

// cliHint is h's hint, with the flags that carry it out where a library hint can only say
// what to do.
func cliHint(h hinter) string {
	switch e := h.(type) {
	case *registry.LockError:
		fix := "the lock is written by archc lock; after a merge conflict, delete the broken image blocks (or the file) and run archc lock"
		if refs := e.Repinnable(); refs != nil {
			return fix + ", or resolve just those again: archc lock --update --image " + strings.Join(refs, " --image ")
		}
		return fix + ", or run archc lock --update to resolve every pin again"
	case *registry.ResolveError:
		if e.TagMissing() {
			return "check the image name and tag; if the lock pins it and the tag was removed, run `archc lock --update --image " + e.Ref + "`"
		}
	case error:
		if errors.Is(e, registry.ErrNoCacheDir) {
			return "set XDG_CACHE_HOME or pass --cache-dir"
		}
	}
	return h.Hint()
}
