// Package fakesigstore runs, in process, the two Sigstore services that
// keyless signing calls, for tests: a Fulcio certificate authority (its
// v2 HTTP API, POST /api/v2/signingCert) and an RFC 3161 timestamp
// authority. Neither the public-good instances nor a local Fulcio or
// timestamp-authority can run here, so these stand in for them; everything
// they hand out is real: X.509 chains made with crypto/x509 (roots and
// intermediates from sigstore-go's pkg/testing/ca), ID tokens signed with
// go-jose, timestamps made with github.com/digitorus/timestamp, and a
// sigstore-go trusted root ([Sigstore.TrustedRoot], and its JSON for
// `--trusted-root FILE`).
//
// How faithful:
//
//   - Fulcio checks the bearer token's signature, issuer, audience
//     ("sigstore") and expiry, the proof of possession (a signature over
//     the token's email, or its subject when it has no email, exactly what
//     sigstore-go signs), and issues a 10-minute code-signing leaf with an
//     email SAN (tokens with an email claim) or a URI SAN (the subject,
//     which must then be a URI), the OIDC issuer in both issuer extensions
//     (1.3.6.1.4.1.57264.1.1 and .8), chained to an intermediate and a root.
//     Unlike Fulcio it knows its OIDC issuer's key directly (no discovery),
//     has no CT log (it answers signedCertificateDetachedSct without an SCT,
//     as Fulcio does without a CT log), and supports no CSR requests.
//   - The TSA answers DER timestamp queries with a signed timestamp over
//     the requested digest, honouring the nonce and certReq, signed by a
//     leaf with the critical timeStamping EKU under its own root.
//   - There is no Rekor: a keyless signature made against the fakes gets
//     its time from the TSA only.
package fakesigstore
