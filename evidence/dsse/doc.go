// Package dsse verifies DSSE envelopes of any payload type with public
// keys: the Dead Simple Signing Envelope of
// https://github.com/secure-systems-lab/dsse (protocol.md, envelope.md),
// whether its payload is an in-toto statement, a custom document, or the
// spec's own "hello world" test vector.
//
// [ParseEnvelope] reads an envelope strictly and within bounds
// ([MaxEnvelopeBytes], [MaxSignatures]): the three fields of envelope.md
// and nothing else, a payloadType, base64 (standard or URL-safe, as the
// spec requires verifiers to accept) that decodes, and at least one
// signature. [Verify] then checks it against the keys given, with the
// threshold and the payload type of [Options], and returns a [Result]: the
// keys that verified, the payload type and the payload. Keys come from
// PEM files ([LoadPublicKey]) or from memory ([NewKey]).
//
// No cryptography is done here. The envelope verifier is
// go-securesystemslib's (dsse.NewMultiEnvelopeVerifier: the
// pre-authentication encoding, the (t, n) threshold over distinct keys);
// each key's signature verifier is sigstore's pkg/signature:
//
//   - ECDSA P-256, P-384 and P-521, hashed with SHA-256, SHA-384 and
//     SHA-512 (the hash that matches the curve, as go-securesystemslib
//     signs). A signature may be ASN.1 DER or the fixed-width r||s of IEEE
//     P1363, as the DSSE test vector and many KMSs write it; r||s is
//     re-encoded as DER before the library verifies it, an encoding
//     change, not a check.
//   - RSA (2048, 3072, 4096 bits) with RSASSA-PSS and SHA-256 (any salt
//     length), as go-securesystemslib and in-toto sign; or, with
//     [Options.RSAPKCS1v15], RSASSA-PKCS1-v1_5 with SHA-256. One scheme
//     per verification, never both.
//   - Ed25519 (pure, over the pre-authentication encoding).
//
// A signature's keyid is, in the spec's words, an unauthenticated hint
// that "MUST NOT be used for security decisions". It selects nothing
// here: every signature is tried with every key not yet matched, so an
// envelope whose keyids follow another tool's naming still verifies, and
// the hint is only reported. Keys are named by [Key.ID], the hex SHA-256
// of their PKIX DER, as cosign and the rest of wasmgate name keys.
//
// The payload type is checked after the signatures, as protocol.md
// orders it: an envelope that does not verify fails with [ErrThreshold]
// whatever type it claims, and [ErrPayloadType] means a verified envelope
// carries another kind of payload.
package dsse
