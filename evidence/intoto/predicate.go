package intoto

import (
	"fmt"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	vsa "github.com/in-toto/attestation/go/predicates/vsa/v1"
	in_toto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/wasmgate/wasmgate/evidence"
)

// ValidatePredicate validates the predicate of st where the in-toto
// attestation library defines its shape and wasmgate reads it: SLSA
// provenance v1 with the library's Provenance.Validate (a build
// definition with a build type and external parameters, a run's builder
// id, every resolved dependency and byproduct a valid ResourceDescriptor),
// and SLSA verification summaries v1, whose policy and input
// attestations are resource descriptors checked with
// ResourceDescriptor.Validate. Other predicate types are not checked
// here: a requirement's conditions read them. An error wraps
// [ErrInvalidStatement] and the library's reason.
func ValidatePredicate(st *in_toto.Statement) error {
	switch st.GetPredicateType() {
	case evidence.PredicateTypeSLSAv1:
		var p slsa.Provenance
		if err := decodePredicate(st, &p); err != nil {
			return err
		}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("%w: SLSA provenance predicate: %w", ErrInvalidStatement, err)
		}
	case evidence.PredicateTypeVSA:
		var s vsa.VerificationSummary
		if err := decodePredicate(st, &s); err != nil {
			return err
		}
		if p := s.GetPolicy(); p != nil {
			if err := (&in_toto.ResourceDescriptor{Uri: p.GetUri(), Digest: p.GetDigest()}).Validate(); err != nil {
				return fmt.Errorf("%w: verification summary policy: %w", ErrInvalidStatement, err)
			}
		}
		for i, a := range s.GetInputAttestations() {
			if err := (&in_toto.ResourceDescriptor{Uri: a.GetUri(), Digest: a.GetDigest()}).Validate(); err != nil {
				return fmt.Errorf("%w: verification summary inputAttestations[%d]: %w", ErrInvalidStatement, i, err)
			}
		}
	}
	return nil
}

// decodePredicate reads the statement's predicate into the library's
// message for its type; fields the message does not know are left alone,
// as producers add their own.
func decodePredicate(st *in_toto.Statement, m proto.Message) error {
	raw, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return fmt.Errorf("%w: predicate: %w", ErrInvalidStatement, err)
	}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, m); err != nil {
		return fmt.Errorf("%w: %s predicate: %w", ErrInvalidStatement, st.GetPredicateType(), err)
	}
	return nil
}
