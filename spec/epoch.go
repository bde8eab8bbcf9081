package spec

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// EpochGit is the source_date_epoch value that means "the last commit time of the spec's
// repository".
const EpochGit = "git"

// attrSourceDateEpoch is the attribute's name, top-level (the default) and per component.
const attrSourceDateEpoch = "source_date_epoch"

// commitTime is the commit time "git" stands for, as gitCommitTime returns it. A load reads
// it at most once (see commitTimeOnce): it is the same for every component, and a git call
// per component would cost a 500-component spec a second.
type commitTime func() (int64, error)

// commitTimeOnce is the load's reader of the commit time of the repository holding the
// first spec file; it runs git on its first call only.
func (e *evaluator) commitTimeOnce() commitTime {
	dir := e.defaultDir
	return sync.OnceValues(func() (int64, error) { return gitCommitTime(dir) })
}

// gitCommitTime reads the commit time; a variable so tests need no git repository.
var gitCommitTime = defaultGitCommitTime

// defaultGitCommitTime reads the committer time of HEAD in the repository holding dir.
func defaultGitCommitTime(dir string) (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "log", "-1", "--format=%ct")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return 0, gitError(err, stderr.String())
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("git log printed %q, not a commit time", strings.TrimSpace(string(out)))
	}
	return n, nil
}

// gitError says why git could not tell the commit time, in words a user can act on.
func gitError(err error, stderr string) error {
	msg := strings.TrimSpace(stderr)
	switch {
	case errors.Is(err, exec.ErrNotFound):
		return errors.New("git is not installed (not found on PATH)")
	case strings.Contains(msg, "not a git repository"):
		return errors.New("the spec's directory is not in a git repository")
	case strings.Contains(msg, "does not have any commits"):
		return errors.New("the repository has no commit yet")
	case strings.Contains(msg, "dubious ownership"):
		return errors.New("git refuses the repository: it is owned by another user (git config --global --add safe.directory DIR, if you trust it)")
	case msg != "":
		first, _, _ := strings.Cut(msg, "\n")
		return fmt.Errorf("git log: %s", first)
	}
	return fmt.Errorf("git log: %w", err)
}

// topEpoch evaluates the top-level source_date_epoch, the components' default; nil when
// it is unset (or null).
func (e *evaluator) topEpoch(a *hcl.Attribute, git commitTime) (*int64, hcl.Diagnostics) {
	if a == nil {
		return nil, nil
	}
	var diags hcl.Diagnostics
	if !e.refsOK(a.Expr, &diags, false) {
		return nil, diags
	}
	v, d := a.Expr.Value(e.ctx)
	if diags = append(diags, d...); d.HasErrors() {
		return nil, diags
	}
	n, d := epochValue(v, a.Expr.Range(), git)
	return n, append(diags, d...)
}

// componentEpoch fills c.SourceDateEpoch: the component's own source_date_epoch (v, decoded
// already), else the top-level default.
func componentEpoch(b *mergedBlock, v cty.Value, defaults componentDefaults, c *Component) hcl.Diagnostics {
	a := attr(b, attrSourceDateEpoch)
	if a == nil || v == cty.NilVal || v.IsNull() { // null is unset, as in Terraform: the default applies
		c.SourceDateEpoch = defaults.SourceDateEpoch
		return nil
	}
	var diags hcl.Diagnostics
	c.SourceDateEpoch, diags = epochValue(v, a.Expr.Range(), defaults.CommitTime)
	return diags
}

// epochValue checks one source_date_epoch value: a whole number of seconds since
// 1970-01-01 UTC (≥ 0; a string of digits too, as an environment variable gives it), or
// "git". null means unset.
func epochValue(v cty.Value, rng hcl.Range, git commitTime) (*int64, hcl.Diagnostics) {
	if v.IsNull() {
		return nil, nil
	}
	invalid := func(got string) (*int64, hcl.Diagnostics) {
		return nil, hcl.Diagnostics{errorAt(rng, "Invalid source_date_epoch",
			"source_date_epoch is %s; write a whole number of seconds since 1970-01-01 UTC (≥ 0), such as 1700000000, or \"git\" for the last commit time of the spec's repository.", got)}
	}
	if !v.IsWhollyKnown() {
		return invalid("not known")
	}
	switch v.Type() {
	case cty.Number:
		bf := v.AsBigFloat()
		if !bf.IsInt() || bf.Sign() < 0 || bf.Cmp(new(big.Float).SetInt64(maxEpoch)) > 0 {
			return invalid(bf.Text('f', -1))
		}
		n, _ := bf.Int64()
		return &n, nil
	case cty.String:
		s := v.AsString()
		if s == EpochGit {
			return gitEpoch(rng, git)
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 || n > maxEpoch || strings.TrimSpace(s) != s {
			return invalid(fmt.Sprintf("%q", SafeLine(s)))
		}
		return &n, nil
	}
	return invalid("a " + v.Type().FriendlyName())
}

// maxEpoch is 9999-12-31T23:59:59Z: BuildKit and the OCI formats write RFC 3339 times,
// which have four-digit years.
const maxEpoch = 253402300799

// gitEpoch is the commit time of HEAD in the repository holding the first spec file: a
// commit fixes it, so the same commit gives the same epoch on any machine.
func gitEpoch(rng hcl.Range, git commitTime) (*int64, hcl.Diagnostics) {
	n, err := git()
	if err != nil {
		return nil, hcl.Diagnostics{errorAt(rng, "Cannot read the commit time",
			"source_date_epoch = \"git\" is the last commit time of the repository holding %s, but %v. Write a number instead (such as source_date_epoch = 1700000000), or set it from a variable in CI.",
			rng.Filename, err)}
	}
	return &n, nil
}
