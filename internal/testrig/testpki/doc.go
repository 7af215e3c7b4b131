// Package testpki makes X.509 certificate authorities and certificates in
// tests, for Notary Project signing and verification with real keys: no
// certificate is checked in, every one is generated when the test runs.
//
// A root [CA] ([NewRoot]) issues intermediates ([CA.NewIntermediate]) and
// leaves ([CA.Issue]). Leaves follow the Notary Project certificate profile
// unless a test asks otherwise: key usage digitalSignature only, extended
// key usage codeSigning (or absent, with LeafOptions.NoExtKeyUsage), basic
// constraints not CA. LeafOptions can point a leaf at an OCSP responder and
// a CRL distribution point (internal/testrig/testrevocation serves both). For the
// failure cases there are a TLS server certificate ([CA.TLSServer]) and an
// expired leaf ([CA.Expired]). Keys are RSA 3072, ECDSA P-256 or P-384
// ([KeyTypes]).
//
// [Leaf.NotationSigner] turns a leaf into a notation-go signer, and
// [WriteNotationTrust] writes what a Notation verifier reads: a
// trustpolicy.json and a trust store directory laid out as the notation CLI
// lays it out (truststore/x509/ca/<name>/*.pem).
package testpki
