package doctor

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Verdict is the outcome of one check.
type Verdict int

// Verdicts, from best to worst.
const (
	OK   Verdict = iota // nothing to do
	Warn                // works now, or may; the fix avoids a likely failure
	Fail                // a build will fail or hang
)

var verdictNames = [...]string{OK: "ok", Warn: "warn", Fail: "fail"}

var verdictSymbols = [...]string{OK: "✓", Warn: "!", Fail: "✗"}

// String is "ok", "warn" or "fail", as in the JSON view.
func (v Verdict) String() string { return verdictNames[v] }

// Symbol is ✓, ! or ✗, as in the text view.
func (v Verdict) Symbol() string { return verdictSymbols[v] }

// MarshalText makes a Verdict its name in JSON.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText reads a Verdict's name.
func (v *Verdict) UnmarshalText(b []byte) error {
	for i, n := range verdictNames {
		if n == string(b) {
			*v = Verdict(i)
			return nil
		}
	}
	return fmt.Errorf("unknown verdict %q (want ok, warn or fail)", b)
}

// DefaultTimeout is a check's deadline when its Timeout is zero.
const DefaultTimeout = 10 * time.Second

// Check is one diagnosis: a stable name, its own deadline and the function that runs it.
type Check struct {
	// Name identifies the check in both views ("dns nexus.internal", "mirror http://...").
	Name string
	// Timeout bounds Run; DefaultTimeout when zero. A Run that overstays it is reported as
	// a failure without waiting for it.
	Timeout time.Duration
	// Run does the check within ctx's deadline and says what it found. It fills every
	// field of Finding but Name and Duration.
	Run func(ctx context.Context) Finding
}

// Finding is what one check found.
type Finding struct {
	// Name is the check's name.
	Name string `json:"name"`
	// Verdict is ok, warn or fail.
	Verdict Verdict `json:"verdict"`
	// Checked says what was checked and what answered ("GET http://127.0.0.1:5000/v2/ → 200").
	Checked string `json:"checked"`
	// Cause names what is wrong; empty when Verdict is OK.
	Cause string `json:"cause,omitempty"`
	// Fix is a concrete way out: a spec change or a command; empty when Verdict is OK.
	Fix string `json:"fix,omitempty"`
	// Duration is how long the check took. The JSON view keeps it in its own field
	// (duration_ms), the only one that differs between identical runs.
	Duration time.Duration `json:"-"`
}

// Report is every finding of one doctor run, in the order the checks were given.
type Report struct {
	Findings []Finding
}

// Count returns how many findings have verdict v.
func (r *Report) Count(v Verdict) int {
	n := 0
	for _, f := range r.Findings {
		if f.Verdict == v {
			n++
		}
	}
	return n
}

// Failed reports whether any check failed: `archc doctor` then exits 1.
func (r *Report) Failed() bool { return r.Count(Fail) > 0 }

// Find returns the finding called name, or nil.
func (r *Report) Find(name string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Name == name {
			return &r.Findings[i]
		}
	}
	return nil
}

// overstay is how long Run waits past a check's deadline before giving up on it.
const overstay = time.Second

// Run runs every check concurrently, each under its own deadline, and returns their
// findings in the order given. A check that panics or overstays its deadline is a failure
// naming that, so one broken check never hides the others.
func Run(ctx context.Context, checks []Check) *Report {
	r := &Report{Findings: make([]Finding, len(checks))}
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Findings[i] = runOne(ctx, c)
		}()
	}
	wg.Wait()
	return r
}

func runOne(ctx context.Context, c Check) Finding {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan Finding, 1)
	start := time.Now()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- Finding{Verdict: Fail, Checked: c.Name, Cause: fmt.Sprintf("the check crashed: %v", p),
					Fix: "report this as an archc bug, with the output of `archc doctor --format json`"}
			}
		}()
		done <- c.Run(cctx)
	}()
	var f Finding
	select {
	case f = <-done:
	case <-time.After(timeout + overstay):
		f = Finding{Verdict: Fail, Checked: c.Name,
			Cause: fmt.Sprintf("the check did not finish within its %s deadline", timeout),
			Fix:   "something it talks to accepts connections and never answers; see the other findings"}
	}
	f.Name = c.Name
	f.Duration = time.Since(start)
	return f
}
