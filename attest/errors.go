package attest

import (
	"errors"
	"fmt"

	"github.com/wasmgate/wasmgate/evidence/intoto"
)

// Reasons an attestation, a condition or a requirement fails. A Result's
// Err wraps one of them, and the cosign or cel-go error behind it where
// there is one.
var (
	// ErrConditionInvalid: a condition that does not compile, or is not a
	// boolean expression. The error is a *ConditionError with a position.
	ErrConditionInvalid = errors.New("invalid condition")
	// ErrConditionCost: a condition that exceeded its cost or time budget.
	ErrConditionCost = errors.New("condition exceeded its evaluation budget")
	// ErrConditionFalse: a condition evaluated to false (or to an error,
	// such as a missing field).
	ErrConditionFalse = errors.New("condition not satisfied")
	// ErrSignature: the attestation's signature does not verify; the
	// cosign error (cosign.ErrSignatureInvalid, ...) is wrapped too.
	ErrSignature = errors.New("attestation signature does not verify")
	// ErrPayloadType, ErrStatementType and ErrSubjectMismatch are
	// package intoto's: a DSSE payload that is not an in-toto statement, a
	// statement of another type, a statement about another artifact.
	ErrPayloadType     = intoto.ErrPayloadType
	ErrStatementType   = intoto.ErrStatementType
	ErrSubjectMismatch = intoto.ErrSubjectMismatch
	// ErrPredicateTypeMismatch: the signed statement's predicate type is
	// not the one its referrer announced.
	ErrPredicateTypeMismatch = errors.New("statement predicate type differs from its referrer's")
	// ErrNoAttestation: no attestation of the required predicate type.
	ErrNoAttestation = errors.New("no attestation of the required predicate type")
	// ErrTooFew: fewer passing attestations than Requirement.MinCount.
	ErrTooFew = errors.New("too few attestations pass")
	// ErrTooOld: an attestation older than Requirement.MaxAge.
	ErrTooOld = errors.New("attestation too old")
	// ErrNoTime: Requirement.MaxAge is set and the attestation has no
	// time to measure its age by: a key signature without log entry or
	// signed timestamp, over a predicate without time fields.
	ErrNoTime = errors.New("attestation has no time to check its age")
	// ErrTooManyAttestations: more attestations than
	// Options.MaxAttestations; the rest were not tried.
	ErrTooManyAttestations = errors.New("too many attestations")
	// ErrMalformed: a referrer or envelope that does not parse.
	ErrMalformed = errors.New("malformed attestation")
)

// ConditionError is a condition that does not compile, with the position
// (1-based line and column) of the first problem cel-go reported.
type ConditionError struct {
	Source  string
	Line    int
	Column  int
	Message string
	Err     error // ErrConditionInvalid
}

func (e *ConditionError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%v at %d:%d: %s (in %q)", e.Err, e.Line, e.Column, e.Message, e.Source)
	}
	return fmt.Sprintf("%v: %s (in %q)", e.Err, e.Message, e.Source)
}

func (e *ConditionError) Unwrap() error { return e.Err }
