package dsse

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error this package returns matches one of them
// with errors.Is, and keeps the library error that caused it in its chain.
var (
	// ErrMalformed: the input is not a DSSE envelope as envelope.md
	// defines it (not JSON, unknown fields, no payloadType, payload or sig
	// not base64).
	ErrMalformed = errors.New("malformed DSSE envelope")
	// ErrTooLarge: the envelope is over MaxEnvelopeBytes or carries more
	// than MaxSignatures signatures.
	ErrTooLarge = errors.New("DSSE envelope too large")
	// ErrNoSignature: the envelope carries no signature at all.
	ErrNoSignature = errors.New("DSSE envelope has no signature")
	// ErrThreshold: fewer distinct keys than the threshold verified a
	// signature (none, when the threshold is 1). See [ThresholdError].
	ErrThreshold = errors.New("DSSE envelope not verified")
	// ErrPayloadType: the envelope verified, but its payloadType is not
	// the one expected. See [PayloadTypeError].
	ErrPayloadType = errors.New("DSSE payload type is not the one expected")
	// ErrKey: a public key cannot be used: not PEM, not a PKIX public
	// key, or a key type, curve or size that is not accepted.
	ErrKey = errors.New("unusable public key")
	// ErrOptions: the verification was asked for something impossible: no
	// key, or a threshold below 1 or above the number of distinct keys.
	ErrOptions = errors.New("invalid DSSE verification options")
)

// EnvelopeError is an envelope refused before any signature was tried.
type EnvelopeError struct {
	// Field is where the envelope is wrong ("payload",
	// "signatures[1].sig"); empty for the envelope as a whole.
	Field string
	// Reason says what is wrong and what to do about it.
	Reason string
	// Err is ErrMalformed, ErrTooLarge or ErrNoSignature.
	Err error
	// Cause is the decoder's error, when there is one.
	Cause error
}

func (e *EnvelopeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Reason)
	if e.Cause != nil {
		b.WriteString(" (" + e.Cause.Error() + ")")
	}
	return b.String()
}

func (e *EnvelopeError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// ThresholdError is an envelope whose signatures too few of the keys
// verified.
type ThresholdError struct {
	// Verified are the IDs of the keys that did verify a signature.
	Verified []string
	// Threshold is how many distinct keys had to; Keys how many were
	// given (distinct); Signatures how many the envelope carries.
	Threshold, Keys, Signatures int
	// Cause is go-securesystemslib's error.
	Cause error
}

func (e *ThresholdError) Error() string {
	what := "no signature verified with the given keys"
	if len(e.Verified) > 0 {
		what = fmt.Sprintf("signatures by %d distinct keys verified (%s), %d needed", len(e.Verified), strings.Join(e.Verified, ", "), e.Threshold)
	}
	return fmt.Sprintf("%v: %s (%d signature(s) tried with %d key(s)): check that the keys are the signers' public keys, that the envelope is unaltered, and for RSA keys the signature scheme (PSS or PKCS #1 v1.5)",
		ErrThreshold, what, e.Signatures, e.Keys)
}

func (e *ThresholdError) Unwrap() []error {
	if e.Cause == nil {
		return []error{ErrThreshold}
	}
	return []error{ErrThreshold, e.Cause}
}

// PayloadTypeError is a verified envelope with another payload type than
// the one expected.
type PayloadTypeError struct {
	Got, Want string
}

func (e *PayloadTypeError) Error() string {
	return fmt.Sprintf("%v: the envelope's payloadType is %q, %q was expected: it carries another kind of payload; expect %q only if that is what you meant to accept",
		ErrPayloadType, e.Got, e.Want, e.Got)
}

func (e *PayloadTypeError) Unwrap() error { return ErrPayloadType }
