package dsse

import (
	"context"
	"fmt"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Options of a verification. The zero value asks for one key's signature
// and any payload type, with RSA-PSS for RSA keys.
type Options struct {
	// Threshold is how many distinct keys must each verify a signature;
	// 0 means 1. Two signatures by one key count once.
	Threshold int
	// PayloadType, when set, is the only payloadType accepted; a verified
	// envelope of another type fails with ErrPayloadType. Empty accepts
	// any, and Result.PayloadType says which it was.
	PayloadType string
	// RSAPKCS1v15 makes RSA keys verify RSASSA-PKCS1-v1_5 signatures
	// (SHA-256) instead of RSASSA-PSS.
	RSAPKCS1v15 bool
}

// Result of a verification that succeeded.
type Result struct {
	// PayloadType is the envelope's payloadType, which the signatures
	// cover.
	PayloadType string `json:"payloadType"`
	// Payload is the decoded payload, for the caller to parse as
	// PayloadType says.
	Payload []byte `json:"-"`
	// Verified are the keys that verified a signature, in the order of
	// the signatures, each once.
	Verified []Signer `json:"verified"`
	// Threshold is the number of keys that had to verify.
	Threshold int `json:"threshold"`
}

// Signer is a key that verified a signature of the envelope.
type Signer struct {
	// KeyID is the key's [Key.ID].
	KeyID string `json:"keyId"`
	// Hint is the keyid the envelope gave the signature, if any: an
	// unauthenticated hint, reported and never relied on.
	Hint string `json:"hint,omitempty"`
}

// Verify checks env against keys with go-securesystemslib's envelope
// verifier: the signatures must verify, over DSSE's pre-authentication
// encoding of the payload type and payload, with at least
// opts.Threshold distinct keys; then the payload type must be
// opts.PayloadType when that is set. The same key given twice counts
// once. Each signature is tried with every key not yet matched (the
// envelope's keyids select nothing; see the package doc), and at most
// [MaxSignatures] signatures are read.
//
// Verification is offline and pure: no context, no I/O. Errors match
// [ErrMalformed], [ErrTooLarge] or [ErrNoSignature] (the envelope, as
// [ParseEnvelope] checks it), [ErrKey] or [ErrOptions] (the caller's
// input), [ErrThreshold] ([*ThresholdError]) or [ErrPayloadType]
// ([*PayloadTypeError]).
func Verify(env *ssldsse.Envelope, keys []Key, opts Options) (*Result, error) {
	if err := validate(env); err != nil {
		return nil, err
	}
	threshold := opts.Threshold
	if threshold == 0 {
		threshold = 1
	}
	// The library counts keys by KeyID, and writes to stdout when two
	// verifiers share one: give it each key once.
	var verifiers []ssldsse.Verifier
	seen := map[string]bool{}
	for i, k := range keys {
		if k.pub == nil {
			return nil, fmt.Errorf("%w: key %d is the zero Key; build keys with LoadPublicKey or NewKey", ErrOptions, i)
		}
		if seen[k.id] {
			continue
		}
		seen[k.id] = true
		v, err := k.verifier(opts)
		if err != nil {
			return nil, err
		}
		verifiers = append(verifiers, v)
	}
	switch {
	case len(verifiers) == 0:
		return nil, fmt.Errorf("%w: no public key given; a DSSE envelope is verified with the signer's public key", ErrOptions)
	case threshold < 1 || threshold > len(verifiers):
		return nil, fmt.Errorf("%w: threshold %d with %d distinct keys; it must be between 1 and the number of distinct keys", ErrOptions, threshold, len(verifiers))
	}
	ev, err := ssldsse.NewMultiEnvelopeVerifier(threshold, verifiers...)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrOptions, err)
	}
	// The hints are dropped from the copy the library sees: it skips a
	// key whose ID differs from a signature's keyid.
	unhinted := ssldsse.Envelope{PayloadType: env.PayloadType, Payload: env.Payload,
		Signatures: make([]ssldsse.Signature, len(env.Signatures))}
	for i, s := range env.Signatures {
		unhinted.Signatures[i] = ssldsse.Signature{Sig: s.Sig}
	}
	accepted, payload, err := ev.VerifyAndDecode(context.Background(), &unhinted)
	signers := make([]Signer, 0, len(accepted))
	for _, a := range accepted {
		signers = append(signers, Signer{KeyID: a.KeyID, Hint: hintOf(env, a.Sig.Sig)})
	}
	// The library already refuses fewer than threshold; counting again
	// costs nothing and does not depend on its error.
	if err != nil || len(signers) < threshold {
		ids := make([]string, len(signers))
		for i, s := range signers {
			ids[i] = s.KeyID
		}
		return nil, &ThresholdError{Verified: ids, Threshold: threshold, Keys: len(verifiers),
			Signatures: len(env.Signatures), Cause: err}
	}
	if opts.PayloadType != "" && env.PayloadType != opts.PayloadType {
		return nil, &PayloadTypeError{Got: env.PayloadType, Want: opts.PayloadType}
	}
	return &Result{PayloadType: env.PayloadType, Payload: payload, Verified: signers, Threshold: threshold}, nil
}

// hintOf is the keyid the envelope gave the (first) signature sig.
func hintOf(env *ssldsse.Envelope, sig string) string {
	for _, s := range env.Signatures {
		if s.Sig == sig {
			return s.KeyID
		}
	}
	return ""
}
