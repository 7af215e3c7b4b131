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

// Reasons a supply-chain layout and its links do not verify (VerifyLayout).
// Each comes inside a *LayoutError, which names the step and rule and
// wraps the error in-toto-golang returned; in-toto-golang's errors are
// untyped, so the reason is decided by which of its checks failed, never
// by its message.
var (
	// ErrInvalidLayout: the layout does not parse as in-toto metadata,
	// is not a layout, breaks in-toto's layout format, or is larger than
	// MaxLayoutBytes.
	ErrInvalidLayout = errors.New("invalid in-toto layout")
	// ErrLayoutSignature: no layout key was given, or the layout lacks a
	// valid signature by one of them (every key given must have signed).
	ErrLayoutSignature = errors.New("in-toto layout is not signed by the layout key")
	// ErrLayoutExpired: the layout's expires date has passed.
	ErrLayoutExpired = errors.New("in-toto layout has expired")
	// ErrInspections: the layout (or a sublayout) has inspections, which
	// are commands the verifier runs. wasmgate never runs a command that
	// evidence names; verify such a layout with in-toto-verify itself.
	ErrInspections = errors.New("in-toto layout has inspections, which run commands: wasmgate does not run them; verify this layout with in-toto-verify")
	// ErrLinkThreshold: a step has fewer links with a valid signature by
	// one of its authorized functionaries than its threshold (a link
	// missing, signed by someone else, or changed after signing).
	ErrLinkThreshold = errors.New("in-toto step has too few valid links")
	// ErrInvalidLink: a link could not be read within the bounds
	// (MaxLinkBytes, MaxLinks, MaxSublayoutDepth) or from its directory.
	ErrInvalidLink = errors.New("in-toto link could not be read")
	// ErrLinksDisagree: the links of one step, by different
	// functionaries, report different materials or products.
	ErrLinksDisagree = errors.New("in-toto links of a step report different artifacts")
	// ErrArtifactRule: an artifact rule of a step (MATCH, CREATE, DELETE,
	// MODIFY, ALLOW, DISALLOW, REQUIRE) is not met by its links.
	ErrArtifactRule = errors.New("in-toto artifact rule failed")
)
