package notation

import (
	"errors"
	"fmt"
	"strconv"
)

// Configuration errors, returned by [LoadTrust], [LoadBlobTrust] and
// [LoadConfig] and, for a scope or a name no trust policy covers, by
// [VerifyReferrers], [VerifyEnvelope] and [VerifyBlob]: no verdict can be reached until the
// user fixes the trust material.
var (
	// ErrInvalidTrustPolicy: trustpolicy.json does not parse or breaks the
	// rules of the Notary Project trust policy (notation-go's error is
	// wrapped): an invalid registry scope, a level or an override notation
	// does not know, a malformed trusted identity, a duplicate name.
	ErrInvalidTrustPolicy = errors.New("invalid Notation trust policy")
	// ErrInvalidTrustStore: a trust store the policy names is missing or
	// unreadable, holds a symlink or a directory (notation-go refuses both),
	// or holds a certificate that is not a CA or self-signed.
	ErrInvalidTrustStore = errors.New("invalid Notation trust store")
	// ErrNoTrustPolicy: no statement of the trust policy applies to the
	// scope (and there is no "*" statement).
	ErrNoTrustPolicy = errors.New("no Notation trust policy applies")
	// ErrInvalidScope: the scope is not "host[:port]/repository" (for an
	// OCI layout, a local scope such as "local/name").
	ErrInvalidScope = errors.New("invalid Notation scope")
	// ErrInvalidMediaType: a media type the caller gave is not one: the
	// content media type of a blob, or an envelope type that is neither
	// JWS nor COSE (or could not be told from the envelope's bytes).
	ErrInvalidMediaType = errors.New("invalid media type")
)

// Reasons a signature fails. A Result's Err wraps one of them, and
// notation-go's error behind it where there is one.
var (
	// ErrIntegrity: the envelope's signature does not verify with the
	// public key of its own signing certificate (altered bytes).
	ErrIntegrity = errors.New("signature integrity check failed")
	// ErrInvalidSignature: the envelope parses, but notation-core-go
	// refuses what it holds: a certificate chain outside the Notary Project
	// certificate profile (a TLS server certificate, a CA or self-signed
	// signing certificate, a chain that does not link), a missing signing
	// time, an expiry before the signing time.
	ErrInvalidSignature = errors.New("signature envelope refused")
	// ErrAuthenticity: the certificate chain does not lead to a
	// certificate of the trust stores the policy names.
	ErrAuthenticity = errors.New("signature not from a trusted certificate authority")
	// ErrUntrustedIdentity: a trusted chain, but the signing certificate's
	// subject matches none of the policy's trustedIdentities.
	ErrUntrustedIdentity = errors.New("signing identity not trusted")
	// ErrExpired: the signature is past its own expiry, or a certificate
	// of its chain is outside its validity period now and no trusted
	// timestamp proves it was valid at signing time.
	ErrExpired = errors.New("signature or certificate expired")
	// ErrTimestamp: the policy asks for a trusted timestamp (a "tsa:"
	// trust store) and the signature has none, or one that does not verify.
	ErrTimestamp = errors.New("authentic timestamp check failed")
	// ErrRevoked: a certificate of the chain is revoked (OCSP or CRL).
	ErrRevoked = errors.New("certificate revoked")
	// ErrRevocationUnknown: the revocation status could not be decided
	// (responders unreachable or timed out, an Unknown answer).
	ErrRevocationUnknown = errors.New("certificate revocation status unknown")
	// ErrSubjectMismatch: a valid signature over another artifact (its
	// payload names another descriptor): replay of another artifact's
	// signature under this subject.
	ErrSubjectMismatch = errors.New("signature is for another artifact")
	// ErrUserMetadata: the signature lacks metadata Options.UserMetadata
	// requires.
	ErrUserMetadata = errors.New("required signature metadata missing")
	// ErrMalformed: a referrer that is not a Notation signature manifest
	// (not one envelope layer, an unknown envelope type, bytes that do not
	// match their descriptor or exceed the size limit, an envelope that
	// does not parse).
	ErrMalformed = errors.New("malformed Notation signature")
	// ErrTooManySignatures: more signatures than Options.MaxSignatures.
	ErrTooManySignatures = errors.New("too many signatures")
	// ErrInconclusive: notation-go could not finish (a plugin the signature
	// asks for, an unexpected error).
	ErrInconclusive = errors.New("verification inconclusive")
)

// NoTrustPolicyError: no statement of the trust policy covers Scope, so
// no signature of Reference can be judged. It wraps [ErrNoTrustPolicy]
// and notation-go's error.
type NoTrustPolicyError struct {
	Scope     string // the scope statements were selected by
	Reference string // the artifact being verified, scope@digest
	Err       error
}

func (e *NoTrustPolicyError) Error() string {
	return fmt.Sprintf("%v to %q (verifying %s): no statement of the trust policy lists it in registryScopes, and none has \"*\"; "+
		"add it to a statement's registryScopes, or verify under a scope a statement lists", ErrNoTrustPolicy, e.Scope, e.Reference)
}

// Unwrap returns ErrNoTrustPolicy and notation-go's error.
func (e *NoTrustPolicyError) Unwrap() []error { return []error{ErrNoTrustPolicy, e.Err} }

// NoBlobTrustPolicyError: the blob trust policy has no statement of that
// Name, or, for Name "", none with globalPolicy true. It wraps
// [ErrNoTrustPolicy].
type NoBlobTrustPolicyError struct {
	Name   string   // the statement asked for; "" for the global one
	Names  []string // the statements the policy has
	Global string   // the global statement, "" when none is
}

func (e *NoBlobTrustPolicyError) Error() string {
	have := "it has none"
	if len(e.Names) > 0 {
		have = "it has " + strconv.Quote(e.Names[0])
		for _, n := range e.Names[1:] {
			have += ", " + strconv.Quote(n)
		}
	}
	if e.Name == "" {
		return fmt.Sprintf("%v to this blob: no statement of the blob trust policy has globalPolicy true (%s); "+
			"name the statement to verify under, or mark one globalPolicy", ErrNoTrustPolicy, have)
	}
	return fmt.Sprintf("%v to this blob: the blob trust policy has no statement named %q (%s)", ErrNoTrustPolicy, e.Name, have)
}

// Unwrap returns ErrNoTrustPolicy.
func (e *NoBlobTrustPolicyError) Unwrap() error { return ErrNoTrustPolicy }
