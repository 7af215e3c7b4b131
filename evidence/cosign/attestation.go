package cosign

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	in_toto "github.com/in-toto/attestation/go/v1"
	"github.com/opencontainers/go-digest"
	"github.com/secure-systems-lab/go-securesystemslib/dsse"
	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protodsse "github.com/sigstore/protobuf-specs/gen/pb-go/dsse"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// VerifyLegacyAttestation verifies one legacy attestation layer (cosign
// v1/v2's .att tag): envelopeJSON is the DSSE envelope the layer holds,
// annotations the layer's (the certificate, chain and Rekor SET of keyless
// attestations). The envelope is turned into the v0.1 bundle it amounts to
// and verified by sigstore-go like a v3 bundle: the statement must list
// subject among its subjects. The statement is returned only when the
// Result is verified.
func VerifyLegacyAttestation(envelopeJSON []byte, annotations map[string]string, subject digest.Digest, auth Authority) (*Result, *in_toto.Statement) {
	r := &Result{Format: FormatLegacy}
	alg, raw, err := artifactDigest(subject)
	if err != nil {
		return r.fail(err), nil
	}
	b, err := legacyAttestationBundle(envelopeJSON, annotations)
	if err != nil {
		return r.fail(err), nil
	}
	r = verifyEntity(b, verify.WithArtifactDigest(alg, raw), subjectCheck{explain: statementNames(subject)}, auth, r)
	if !r.Verified {
		return r, nil
	}
	env, err := b.Envelope()
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)), nil
	}
	st, err := env.Statement()
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err)), nil
	}
	return r, st
}

// legacyAttestationBundle is legacyBundle for a DSSE layer: a v0.1 bundle
// whose content is the envelope, with the same key hint or certificate
// chain and Rekor entry handling.
func legacyAttestationBundle(envelopeJSON []byte, ann map[string]string) (*bundle.Bundle, error) {
	var env dsse.Envelope
	if err := json.Unmarshal(envelopeJSON, &env); err != nil {
		return nil, fmt.Errorf("%w: DSSE envelope: %w", ErrMalformed, err)
	}
	payload, err := env.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("%w: DSSE payload: %w", ErrMalformed, err)
	}
	if len(env.Signatures) == 0 {
		return nil, fmt.Errorf("%w: a DSSE envelope without signatures", ErrMalformed)
	}
	pe := &protodsse.Envelope{Payload: payload, PayloadType: env.PayloadType}
	for _, s := range env.Signatures {
		sig, err := base64.StdEncoding.DecodeString(s.Sig)
		if err != nil || len(sig) == 0 {
			return nil, fmt.Errorf("%w: a DSSE signature that is not base64", ErrMalformed)
		}
		pe.Signatures = append(pe.Signatures, &protodsse.Signature{Sig: sig, Keyid: s.KeyID})
	}
	vm, err := legacyMaterial(ann)
	if err != nil {
		return nil, err
	}
	b, err := bundle.NewBundle(&protobundle.Bundle{
		MediaType:            "application/vnd.dev.sigstore.bundle+json;version=0.1",
		VerificationMaterial: vm,
		Content:              &protobundle.Bundle_DsseEnvelope{DsseEnvelope: pe},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return b, nil
}
