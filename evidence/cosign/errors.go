package cosign

import "errors"

// Reasons a signature fails. A Result's Err wraps one of them, and the
// sigstore-go error behind it where there is one.
var (
	// ErrSignatureInvalid: the signature does not verify with any of the
	// authority's keys (a wrong key, or altered bytes).
	ErrSignatureInvalid = errors.New("signature does not verify")
	// ErrIdentityMismatch: a valid certificate, but for another identity
	// (issuer or SAN).
	ErrIdentityMismatch = errors.New("certificate identity does not match")
	// ErrCertificateInvalid: the certificate does not chain to a trusted
	// Fulcio root at the signing time, or has expired without a timestamp
	// proving it was valid then.
	ErrCertificateInvalid = errors.New("certificate not valid")
	// ErrSubjectMismatch: the signature is over another artifact (the
	// statement subject or docker-manifest-digest names another digest).
	ErrSubjectMismatch = errors.New("signature is for another artifact")
	// ErrMissingTlog: fewer transparency-log entries than required.
	ErrMissingTlog = errors.New("missing transparency log entry")
	// ErrMissingTimestamp: fewer signed timestamps than required.
	ErrMissingTimestamp = errors.New("missing signed timestamp")
	// ErrSCTInvalid: a Fulcio certificate without a signed certificate
	// timestamp that verifies against a CT log key of the trusted root
	// (Fulcio embeds one for every certificate it logs).
	ErrSCTInvalid = errors.New("certificate transparency: no verified signed certificate timestamp")
	// ErrKeyNotValid: a key signature made outside the key's validity
	// window.
	ErrKeyNotValid = errors.New("signature time outside the key's validity window")
	// ErrTlogInvalid: a log entry that does not verify against the log
	// keys of the trust material.
	ErrTlogInvalid = errors.New("transparency log entry does not verify")
	// ErrMalformed: a bundle or legacy layer that does not parse.
	ErrMalformed = errors.New("malformed signature")
	// ErrKindMismatch: a keyless signature checked against keys, or the
	// other way round.
	ErrKindMismatch = errors.New("signature kind does not match the authority")
	// ErrTooManySignatures: more signatures than Options.MaxSignatures.
	ErrTooManySignatures = errors.New("too many signatures")
	// ErrNoAuthority: an authority with neither keys nor identities.
	ErrNoAuthority = errors.New("authority has no keys and no identities")
	// ErrNoTrustedRoot: keyless identities or a log threshold without the
	// trust material to check them.
	ErrNoTrustedRoot = errors.New("a trusted root is required")
	// ErrGitHubIdentity: an owner, repository or workflow that cannot name
	// a GitHub identity.
	ErrGitHubIdentity = errors.New("invalid GitHub identity")
	// ErrUnsupportedDigest: a digest algorithm sigstore bundles do not use
	// (sha256, sha384 and sha512 are).
	ErrUnsupportedDigest = errors.New("unsupported digest algorithm")
	// ErrBlobTooLarge: a blob over the size DigestBlob was given.
	ErrBlobTooLarge = errors.New("blob too large")
)

func isSubjectMismatch(err error) bool { return errors.Is(err, ErrSubjectMismatch) }
