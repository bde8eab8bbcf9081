package solver

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/archc-dev/archc/spec"
)

// Failed says whether the builder is unusable: it did not answer, or answered with an error.
// A local builder that is not running is not a failure (apply starts it).
func (st Status) Failed() bool { return st.Err != nil }

// StatusView renders builder statuses in one format.
type StatusView interface {
	Status(w io.Writer, sts []Status) error
}

// StatusFormats are the names NewStatusView accepts.
var StatusFormats = []string{"text", "json"}

// NewStatusView returns the view for format: "text" (for people) or "json" (for machines;
// see jsonStatusReport).
func NewStatusView(format string) (StatusView, error) {
	switch format {
	case "text", "":
		return statusTextView{}, nil
	case "json":
		return statusJSONView{}, nil
	default:
		return nil, fmt.Errorf("unknown format %q (want one of text, json)", format)
	}
}

type statusTextView struct{}

// Status writes a block per builder: kind, address, state, version, platforms, config.
func (statusTextView) Status(w io.Writer, sts []Status) error {
	var b strings.Builder
	for _, st := range sts {
		writeStatusText(&b, st)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeStatusText writes one builder. The address, version, platforms and errors come
// from the spec and from the daemon's answers: they are escaped (spec.SafeLine) so they
// cannot drive the reader's terminal or fake a line.
func writeStatusText(b *strings.Builder, st Status) {
	kind := "remote"
	if st.Local {
		kind = "local"
	}
	fmt.Fprintf(b, "builder %s (%s)\n  address:   %s\n", spec.SafeLine(st.Name), kind, spec.SafeLine(st.Address))
	if !st.Running {
		if st.Err != nil {
			fmt.Fprintf(b, "  state:     unreachable: %s\n", spec.SafeLine(spec.RedactText(st.Err.Error())))
			writeHintText(b, st.Err)
			return
		}
		fmt.Fprintf(b, "  state:     not running (`archc builder up` or `archc apply` starts it)\n")
		return
	}
	state := "running"
	if st.PID > 0 {
		state = fmt.Sprintf("running (pid %d)", st.PID)
	}
	fmt.Fprintf(b, "  state:     %s\n", state)
	if st.Version != "" {
		fmt.Fprintf(b, "  version:   buildkit %s\n", spec.SafeLine(st.Version))
	}
	if len(st.Platforms) > 0 {
		fmt.Fprintf(b, "  platforms: %s\n", spec.SafeLine(strings.Join(st.Platforms, ", ")))
	}
	if st.ConfigMatches != nil {
		if *st.ConfigMatches {
			fmt.Fprintf(b, "  config:    matches the spec\n")
		} else {
			fmt.Fprintf(b, "  config:    differs from the spec (registry/proxy settings changed, or a dead mirror was left out); the next apply or `archc builder up` restarts it\n")
		}
	}
	if st.Err != nil {
		fmt.Fprintf(b, "  error:     %s\n", spec.SafeLine(spec.RedactText(st.Err.Error())))
		writeHintText(b, st.Err)
	}
}

func writeHintText(b *strings.Builder, err error) {
	if h := hintOf(err); h != "" {
		fmt.Fprintf(b, "  hint:      %s\n", spec.SafeLine(h))
	}
}

// StatusJSONFormatVersion is the format_version of the status JSON view; it changes only
// when a field is renamed or removed.
const StatusJSONFormatVersion = 1

// jsonStatusReport is the JSON view's schema. ExitCode is what `archc builder status`
// exits with: 1 when a builder failed.
type jsonStatusReport struct {
	FormatVersion int          `json:"format_version"`
	Builders      []jsonStatus `json:"builders"`
	ExitCode      int          `json:"exit_code"`
}

// jsonStatus is one builder. State is "running", "not running" or "unreachable";
// config_matches is set for a running local builder.
type jsonStatus struct {
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	Address       string   `json:"address"`
	State         string   `json:"state"`
	PID           int      `json:"pid,omitempty"`
	Version       string   `json:"version,omitempty"`
	Platforms     []string `json:"platforms,omitempty"`
	ConfigMatches *bool    `json:"config_matches,omitempty"`
	Error         string   `json:"error,omitempty"`
	Hint          string   `json:"hint,omitempty"`
}

type statusJSONView struct{}

// Status writes the statuses as one indented JSON object.
func (statusJSONView) Status(w io.Writer, sts []Status) error {
	out := jsonStatusReport{FormatVersion: StatusJSONFormatVersion, Builders: make([]jsonStatus, len(sts))}
	for i, st := range sts {
		js := jsonStatus{Name: st.Name, Kind: "remote", Address: st.Address, State: "running", PID: st.PID,
			Version: st.Version, Platforms: st.Platforms, ConfigMatches: st.ConfigMatches}
		if st.Local {
			js.Kind = "local"
		}
		if !st.Running {
			js.State = "not running"
			if st.Err != nil {
				js.State = "unreachable"
			}
		}
		if st.Err != nil {
			js.Error, js.Hint = spec.RedactText(st.Err.Error()), hintOf(st.Err)
		}
		if st.Failed() {
			out.ExitCode = 1
		}
		out.Builders[i] = js
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("encode the builder status: %w", err)
	}
	return nil
}
