package permissions

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error that [Parse] returns is an [*Error] that wraps
// one of these (ErrTrustPolicy, being ErrInvalid too, wraps both), so
// callers branch with [errors.Is] and read the position with [errors.As],
// never by matching text.
var (
	// ErrTooLarge: the policy is larger than [MaxSize]. Nothing was parsed.
	ErrTooLarge = errors.New("policy too large")

	// ErrSyntax: the bytes are not well-formed YAML. The YAML parser's own
	// error is wrapped too and carries its line in its text.
	ErrSyntax = errors.New("policy is not well-formed YAML")

	// ErrUnsupportedVersion: the version field is missing or is not "1.0".
	ErrUnsupportedVersion = errors.New("unsupported policy version")

	// ErrUnknownField: a mapping has a key the format does not define.
	// Unknown keys are errors, not ignored, because a host that silently
	// drops a field the publisher signed enforces a different policy.
	ErrUnknownField = errors.New("unknown policy field")

	// ErrInvalid: the document is YAML but breaks the format: a wrong type,
	// a missing required field, a value outside what is allowed, a
	// duplicate key, an alias, or more than one document.
	ErrInvalid = errors.New("invalid policy")

	// ErrTrustPolicy: the document is a wasmgate trust policy (version: v1,
	// policies:), the other kind of policy file: it says who must have
	// signed an artifact, not what a module may do. Reported before the
	// version or any field, so the error names the mix-up instead of the
	// first key that does not fit. It wraps ErrInvalid, which it is too.
	ErrTrustPolicy = fmt.Errorf("%w: a trust policy, not a permission policy", ErrInvalid)
)

// Error reports where and why a policy was rejected.
type Error struct {
	// Field is the path of the offending value, such as
	// "permissions.storage.allow[1].access[0]"; empty for the document as a whole.
	Field string
	// Line and Column are 1-based positions in the input; 0 when unknown
	// (size checks and YAML syntax errors).
	Line, Column int
	// Reason says what is wrong and what is allowed.
	Reason string
	// Err is the sentinel: ErrTooLarge, ErrSyntax, ErrUnsupportedVersion,
	// ErrUnknownField, ErrInvalid or ErrTrustPolicy (which wraps ErrInvalid).
	Err error
	// Cause is a foreign error behind this one (the YAML parser's), or nil.
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("policy: ")
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d, column %d: ", e.Line, e.Column)
	}
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and, when there is one, the foreign cause, so
// that errors.Is matches either.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}
