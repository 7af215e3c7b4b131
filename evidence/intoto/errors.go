package intoto

import "errors"

// Reasons a statement is not evidence about an artifact.
var (
	// ErrPayloadType: a DSSE envelope whose payloadType is not
	// application/vnd.in-toto+json.
	ErrPayloadType = errors.New("DSSE payload is not an in-toto statement")
	// ErrStatementType: a statement whose _type is neither in-toto v1 nor
	// v0.1, or that does not parse.
	ErrStatementType = errors.New("not an in-toto statement")
	// ErrInvalidStatement: the statement breaks the in-toto attestation
	// spec (no subject, a malformed digest, no predicate type or
	// predicate); the attestation library's own sentinel is wrapped too.
	ErrInvalidStatement = errors.New("invalid in-toto statement")
	// ErrSubjectMismatch: the statement is about another artifact.
	ErrSubjectMismatch = errors.New("attestation is for another artifact")
)
