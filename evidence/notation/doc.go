// Package notation verifies Notary Project (Notation) signatures over OCI
// artifacts: JWS (application/jose+json) and COSE (application/cose)
// envelopes stored as OCI referrers (artifactType, or config media type,
// application/vnd.cncf.notary.signature), as notation sign writes them.
//
// All verification is notation-go's own verifier
// (github.com/notaryproject/notation-go/verifier), driven by the trust
// material Notation users already have: a trustpolicy.json and a trust
// store directory, read by [LoadTrust]. This package fetches each envelope
// (bounded, digest-checked), hands it to the verifier with the subject's
// descriptor and the scope that selects the trust policy statement, and
// turns notation-go's outcome into a [Result] with a typed error.
//
// Two more doors lead to the same verifier, both offline:
// [VerifyEnvelope] checks one envelope file against a descriptor the
// caller gives (notation verify, with the envelope and the descriptor in
// hand), and [VerifyBlob] checks a blob signature, what notation blob
// sign writes (a detached envelope whose payload names the file's digest,
// size and content media type), under the blob trust policy
// (trustpolicy.blob.json, read by [LoadBlobTrust]), whose statements are
// chosen by name or the one marked globalPolicy, not by registry scope.
// notation-go v1.3 reads no blob policy: this package parses it with the
// Notary Project's rules and hands the chosen statement to notation-go's
// verifier, so every check below is notation-go's for blobs too.
// [LoadConfig] finds both policies in a Notation configuration directory
// as the notation CLI does.
//
// # What each level checks
//
// notation-go runs the checks in this order and stops at the first failed
// check whose action is enforce; a failed check whose action is log is
// recorded in Result.Checks and the signature can still verify:
//
//	check                 strict   permissive  audit    skip
//	integrity             enforce  enforce     enforce  skip
//	authenticity          enforce  enforce     log      skip
//	(trusted identity is part of authenticity)
//	expiry                enforce  log         log      skip
//	authenticTimestamp    enforce  log         log      skip
//	revocation            enforce  log         log      skip
//
// An override in the statement changes one action (integrity cannot be
// overridden, only revocation can be skipped); the level is then reported
// as "custom". Whatever the level, a signature whose payload names another
// artifact fails ([ErrSubjectMismatch]), as does one without the required
// Options.UserMetadata. Under skip nothing is fetched or checked: one
// Result with Verified true and Level "skip" says so.
//
// authenticTimestamp is where an expired certificate is caught: without a
// "tsa:" trust store in the statement, every certificate of the chain must
// be valid now; with one, a timestamp countersignature must prove the
// signing time. Revocation asks OCSP, then the CRL, of each certificate
// that names a responder or distribution point, within
// Options.RevocationTimeout for the whole chain.
//
// # Errors
//
// Failures are mapped from notation-go's typed parts, never from error
// text: the validation type that failed and its action, notation-core-go's
// error types (SignatureIntegrityError → [ErrIntegrity],
// InvalidSignatureError → [ErrInvalidSignature],
// SignatureAuthenticityError → [ErrAuthenticity]; the untyped
// trusted-identity failure → [ErrUntrustedIdentity]), the certificate
// validity periods in the envelope ([ErrExpired] versus [ErrTimestamp]),
// the revocation results ([ErrRevoked] versus [ErrRevocationUnknown]) and
// the signed payload ([ErrSubjectMismatch]).
//
// Plugins are not supported: a signature that asks for a verification
// plugin fails with [ErrInconclusive].
package notation
