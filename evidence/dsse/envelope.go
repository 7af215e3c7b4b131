package dsse

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	ssldsse "github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// Bounds on what an envelope may hold.
const (
	// MaxEnvelopeBytes bounds the JSON of an envelope: an SBOM in an
	// envelope runs to several MiB, and base64 adds a third.
	MaxEnvelopeBytes = 16 << 20
	// MaxSignatures bounds the signatures read from one envelope; each is
	// tried with every key, so this bounds the work of a verification.
	MaxSignatures = 32
)

// wireEnvelope is envelope.md's JSON, with pointers to tell a field that
// is absent from one that is empty.
type wireEnvelope struct {
	PayloadType *string         `json:"payloadType"`
	Payload     *string         `json:"payload"`
	Signatures  []wireSignature `json:"signatures"`
}

type wireSignature struct {
	KeyID string  `json:"keyid"`
	Sig   *string `json:"sig"`
}

// ParseEnvelope reads a DSSE envelope (JSON) of at most
// [MaxEnvelopeBytes], strictly: the fields of envelope.md and no other
// (the v1.1 draft's signature extensions are refused, not ignored), a
// non-empty payloadType, a payload and signatures that decode as base64
// (standard or URL-safe, padded, as go-securesystemslib reads them; an
// absent payload is the empty one, as envelope.md allows), and between 1
// and [MaxSignatures] signatures, each with a sig. Every failure is an
// [*EnvelopeError] matching [ErrMalformed], [ErrTooLarge] or
// [ErrNoSignature]. No signature is checked: that is [Verify].
func ParseEnvelope(raw []byte) (*ssldsse.Envelope, error) {
	if len(raw) > MaxEnvelopeBytes {
		return nil, &EnvelopeError{Err: ErrTooLarge,
			Reason: fmt.Sprintf("more than %d bytes; wasmgate reads no larger envelope", MaxEnvelopeBytes)}
	}
	var w wireEnvelope
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, &EnvelopeError{Err: ErrMalformed, Cause: err,
			Reason: "not a DSSE JSON envelope (payload, payloadType, signatures[].keyid and .sig, and no other field)"}
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, &EnvelopeError{Err: ErrMalformed, Reason: "data after the envelope's JSON object; a file holds one envelope"}
	}
	env := &ssldsse.Envelope{Signatures: make([]ssldsse.Signature, 0, len(w.Signatures))}
	if w.PayloadType != nil {
		env.PayloadType = *w.PayloadType
	}
	if w.Payload != nil {
		env.Payload = *w.Payload
	}
	for i, s := range w.Signatures {
		if s.Sig == nil {
			return nil, &EnvelopeError{Err: ErrMalformed, Field: fmt.Sprintf("signatures[%d]", i),
				Reason: "no sig; every signature needs one"}
		}
		env.Signatures = append(env.Signatures, ssldsse.Signature{KeyID: s.KeyID, Sig: *s.Sig})
	}
	if err := validate(env); err != nil {
		return nil, err
	}
	return env, nil
}

// validate checks what ParseEnvelope promises of an envelope, so that
// Verify holds envelopes built in memory to it too.
func validate(env *ssldsse.Envelope) error {
	if env == nil {
		return &EnvelopeError{Err: ErrMalformed, Reason: "no envelope"}
	}
	if env.PayloadType == "" {
		return &EnvelopeError{Err: ErrMalformed, Field: "payloadType",
			Reason: "empty or absent; DSSE signs the payload type with the payload, so an envelope must state it"}
	}
	if _, err := env.DecodeB64Payload(); err != nil {
		return &EnvelopeError{Err: ErrMalformed, Field: "payload", Cause: err,
			Reason: "not base64 (standard or URL-safe, padded)"}
	}
	switch n := len(env.Signatures); {
	case n == 0:
		return &EnvelopeError{Err: ErrNoSignature, Field: "signatures",
			Reason: "empty or absent; the envelope was never signed, or its signatures were stripped"}
	case n > MaxSignatures:
		return &EnvelopeError{Err: ErrTooLarge, Field: "signatures",
			Reason: fmt.Sprintf("%d signatures, more than the %d wasmgate reads", n, MaxSignatures)}
	}
	for i, s := range env.Signatures {
		sig, err := decodeB64(s.Sig)
		if err != nil || len(sig) == 0 {
			return &EnvelopeError{Err: ErrMalformed, Field: fmt.Sprintf("signatures[%d].sig", i), Cause: err,
				Reason: "empty or not base64 (standard or URL-safe, padded)"}
		}
	}
	return nil
}

// decodeB64 accepts what go-securesystemslib's verifier decodes a sig
// with (its decoder is unexported): standard, then URL-safe base64, both
// padded. Refusing here what the library would refuse later makes a bad
// sig a malformed envelope rather than a failed verification.
func decodeB64(s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		b, err = base64.URLEncoding.DecodeString(s)
	}
	return b, err
}
