package intoto

import (
	"fmt"
	"time"

	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/wasmgate/wasmgate/evidence"
)

// StatementOf checks a verified envelope's payload type and statement
// type and that the statement names subject, and returns the statement.
func StatementOf(env *dsse.Envelope, subject digest.Digest) (*in_toto.Statement, error) {
	if env.PayloadType != evidence.PayloadTypeInToto {
		return nil, fmt.Errorf("%w: payloadType is %q", ErrPayloadType, env.PayloadType)
	}
	raw, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrStatementType, err)
	}
	return ParseStatement(raw, subject)
}

// ParseStatement parses a statement (JSON, in-toto v1 or v0.1), checks its
// type, validates it as the in-toto attestation spec asks (the
// attestation library's Statement.Validate: a subject, each subject's
// digests well-formed for their algorithm, a predicate type and a
// predicate; the library's sentinel stays in the chain beside
// ErrInvalidStatement), validates the predicates whose shape the library
// defines ([ValidatePredicate]), and checks that it names subject.
func ParseStatement(raw []byte, subject digest.Digest) (*in_toto.Statement, error) {
	var st in_toto.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStatementType, err)
	}
	if t := st.GetType(); t != evidence.StatementTypeV1 && t != evidence.StatementTypeV01 {
		return nil, fmt.Errorf("%w: _type is %q", ErrStatementType, t)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidStatement, err)
	}
	if err := ValidatePredicate(&st); err != nil {
		return nil, err
	}
	for _, s := range st.GetSubject() {
		if s.GetDigest()[string(subject.Algorithm())] == subject.Encoded() {
			return &st, nil
		}
	}
	return nil, fmt.Errorf("%w: the statement's subjects do not include %s", ErrSubjectMismatch, subject)
}

// PredicateTime is the latest time a provenance predicate states about
// its build (SLSA v1 runDetails.metadata, SLSA v0.2 metadata). It is what
// the signer claims, used only when no log or timestamp authority vouches
// for a time.
func PredicateTime(st *in_toto.Statement) (time.Time, bool) {
	p := st.GetPredicate().AsMap()
	var meta map[string]any
	if rd, ok := p["runDetails"].(map[string]any); ok {
		meta, _ = rd["metadata"].(map[string]any)
	} else {
		meta, _ = p["metadata"].(map[string]any)
	}
	for _, k := range []string{"finishedOn", "buildFinishedOn", "startedOn", "buildStartedOn"} {
		if s, ok := meta[k].(string); ok {
			if t, err := time.Parse(time.RFC3339, s); err == nil {
				return t, true
			}
		}
	}
	return time.Time{}, false
}
