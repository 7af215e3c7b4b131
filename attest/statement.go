package attest

import (
	"fmt"
	"time"

	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// In-toto media and statement types.
const (
	PayloadTypeInToto      = "application/vnd.in-toto+json"
	StatementTypeV1        = "https://in-toto.io/Statement/v1"
	StatementTypeV01       = "https://in-toto.io/Statement/v0.1"
	PredicateTypeSLSAv1    = "https://slsa.dev/provenance/v1"
	PredicateTypeSLSAv02   = "https://slsa.dev/provenance/v0.2"
	PredicateTypeSPDX      = "https://spdx.dev/Document"
	PredicateTypeCycloneDX = "https://cyclonedx.org/bom"
)

// cosignPredicateTypes are the short names `cosign attest --type` takes.
var cosignPredicateTypes = map[string]string{
	"slsaprovenance":   PredicateTypeSLSAv02,
	"slsaprovenance02": PredicateTypeSLSAv02,
	"slsaprovenance1":  PredicateTypeSLSAv1,
	"link":             "https://in-toto.io/Link/v1",
	"spdx":             PredicateTypeSPDX,
	"spdxjson":         PredicateTypeSPDX,
	"cyclonedx":        PredicateTypeCycloneDX,
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
}

// PredicateTypeURI is the predicate type URI of t: t itself, or the URI
// of one of cosign's short names (slsaprovenance1, spdxjson, ...).
func PredicateTypeURI(t string) string {
	if u, ok := cosignPredicateTypes[t]; ok {
		return u
	}
	return t
}

// statementOf checks a verified envelope's payload type and statement
// type and that the statement names subject, and returns the statement.
func statementOf(env *dsse.Envelope, subject digest.Digest) (*in_toto.Statement, error) {
	if env.PayloadType != PayloadTypeInToto {
		return nil, fmt.Errorf("%w: payloadType is %q", ErrPayloadType, env.PayloadType)
	}
	raw, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %w", ErrStatementType, err)
	}
	return parseStatement(raw, subject)
}

// parseStatement parses a statement (JSON), checks its type and that it
// names subject.
func parseStatement(raw []byte, subject digest.Digest) (*in_toto.Statement, error) {
	var st in_toto.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStatementType, err)
	}
	if t := st.GetType(); t != StatementTypeV1 && t != StatementTypeV01 {
		return nil, fmt.Errorf("%w: _type is %q", ErrStatementType, t)
	}
	for _, s := range st.GetSubject() {
		if s.GetDigest()[string(subject.Algorithm())] == subject.Encoded() {
			return &st, nil
		}
	}
	return nil, fmt.Errorf("%w: the statement's subjects do not include %s", ErrSubjectMismatch, subject)
}

// predicateTime is the latest time a provenance predicate states about
// its build (SLSA v1 runDetails.metadata, SLSA v0.2 metadata). It is what
// the signer claims, used only when no log or timestamp authority vouches
// for a time.
func predicateTime(st *in_toto.Statement) (time.Time, bool) {
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
