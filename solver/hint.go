package solver

import "errors"

// hintOf is the hint an error carries (Hint() string, registry.WithHint), if any.
func hintOf(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}
