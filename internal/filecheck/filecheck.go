// Package filecheck holds what the file checkers below it share: the error
// of a broken rule, located in the file as precisely as its format allows.
// The checkers serve the provider at plan time and the sandbox server
// side, and know nothing of Terraform or HTTP.
package filecheck

import (
	"errors"
	"fmt"
	"strings"
)

// RuleError is a broken rule, located as precisely as possible.
type RuleError struct {
	File   string // the file as the user named it
	Entry  string // a zip entry, when the problem is inside a zip
	Line   int64  // 1-based, 0 when the problem is not about one line
	Column int    // 1-based byte column, 0 when unknown
	Rule   string // the checker's rule, as documented
	// Problem says what was found; Fix (optional) says what to do.
	Problem string
	Fix     string
}

func (e *RuleError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Entry != "" {
		fmt.Fprintf(&b, ", zip entry %q", e.Entry)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ", line %d", e.Line)
		if e.Column > 0 {
			fmt.Fprintf(&b, ", column %d", e.Column)
		}
	}
	fmt.Fprintf(&b, ": %s (rule: %s)", e.Problem, e.Rule)
	if e.Fix != "" {
		b.WriteString(". " + e.Fix)
	}
	return b.String()
}

// RuleOf returns the rule an error broke, or "" when err is not a rule
// violation (an I/O error, for instance).
func RuleOf(err error) string {
	var e *RuleError
	if errors.As(err, &e) {
		return e.Rule
	}
	return ""
}
