package verify

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/notation"
)

// OneOff is a policy as the verify commands of cosign and notation take it
// on their command lines: one statement for every repository and, as
// those commands do, every kind of subject (artifacts: [any]: a container
// image, an index, any artifact; a wasm artifact still meets the wasm
// rules, and only a wasm artifact is ever loaded), a cosign
// authority and a Notation trust each counting as one authority, every one
// given required; with an attestation, `cosign verify-attestation`: the
// cosign authority signs the attestation, not the artifact.
type OneOff struct {
	// Cosign is the cosign authority (cosign verify's flags); nil for
	// none.
	Cosign *CosignSpec
	// Notation is the Notation trust (notation verify's); nil for none.
	Notation *NotationSpec
	// Attestation is a required attestation, signed by the cosign
	// authority; nil for none.
	Attestation *AttestationSpec
}

// NotationSpec is a Notation trust as notation verify takes it: the trust
// policy file, the trust store directory, the scope to choose the trust
// policy statement by (default: the artifact's repository) and the signed
// user metadata that must be present.
type NotationSpec struct {
	TrustPolicy, TrustStore string
	Scope                   string
	UserMetadata            map[string]string
}

// AttestationSpec is a required in-toto attestation, as cosign
// verify-attestation takes it: the predicate type (a URI or one of cosign's
// short names), CEL conditions, a maximum age and how many must pass (0:
// one).
type AttestationSpec struct {
	PredicateType string
	Conditions    []string
	MaxAge        time.Duration
	MinCount      int
}

// The fields of a OneOff that a SpecError may name, beyond a CosignSpec's.
const (
	FieldNotation      = "notation"
	FieldPredicateType = "attestation.predicateType"
	FieldConditions    = "attestation.conditions"
	FieldAttestation   = "attestation"
)

// OneOffPolicy builds the policy o describes. Errors are *SpecError naming
// the field (for a CLI to name its flag).
func OneOffPolicy(ctx context.Context, o OneOff, env SpecEnv) (*Policy, error) {
	st := Statement{Name: "flags", Scopes: []string{"*"}, Mode: ModeEnforce, Artifacts: []ArtifactKind{ArtifactAny},
		Layers: LayerRules{AllowUnknown: true, MaxBytes: DefaultMaxLayerBytes}}
	if o.Cosign == nil && o.Notation == nil {
		return nil, invalid(FieldKey, "say who may sign: a key, a keyless identity, a GitHub owner or repository, or a Notation trust policy and store")
	}
	if o.Cosign != nil {
		b, err := o.Cosign.Build(ctx, env)
		if err != nil {
			return nil, err
		}
		st.Authorities = append(st.Authorities, &Authority{Name: "cosign", Kind: b.Kind, Cosign: &b.Authority,
			Insecure: b.Insecure, Warnings: b.Warnings, Description: b.Description})
	}
	if n := o.Notation; n != nil {
		if n.TrustPolicy == "" || n.TrustStore == "" {
			return nil, invalid(FieldNotation, "Notation verification needs a trust policy and a trust store")
		}
		trust, err := notation.LoadTrust(n.TrustPolicy, n.TrustStore)
		if err != nil {
			return nil, &SpecError{Field: FieldNotation, Reason: "cannot load the Notation trust policy and store", Err: ErrTrustMaterial, Cause: err}
		}
		st.Authorities = append(st.Authorities, &Authority{Name: "notation", Kind: KindNotation,
			Notation:    &NotationAuthority{Trust: trust, Scope: n.Scope, UserMetadata: n.UserMetadata},
			Description: "notation trust policy " + filepath.Base(n.TrustPolicy)})
	}
	st.Threshold = len(st.Authorities)
	if a := o.Attestation; a != nil {
		if o.Cosign == nil {
			return nil, invalid(FieldAttestation, "an attestation needs a cosign key or keyless identity to check its signature")
		}
		if a.PredicateType == "" {
			return nil, invalid(FieldPredicateType, "is required")
		}
		rule := &AttestationRule{PredicateType: evidence.PredicateTypeURI(a.PredicateType), SignedBy: []string{"cosign"}, MaxAge: a.MaxAge, MinCount: a.MinCount}
		for _, src := range a.Conditions {
			cond, err := attest.Compile(src)
			if err != nil {
				return nil, &SpecError{Field: FieldConditions, Reason: fmt.Sprintf("%q does not compile", src), Err: ErrPolicyInvalid, Cause: err}
			}
			rule.Conditions = append(rule.Conditions, cond)
		}
		st.Attestations = []*AttestationRule{rule}
		st.Threshold-- // the cosign authority signs the attestation, not the artifact
	}
	return NewPolicy(st)
}
