// Package testrevocation is test support: a real OCSP responder and CRL
// distribution point on 127.0.0.1 for one issuing CA, so that tests of
// Notation verification exercise notation-core-go's revocation checks
// against real signed answers instead of mocks.
//
// [New] starts a [Server] for an issuer certificate and its key. Leaf
// certificates made in a test point at it through their OCSPServer
// ([Server.OCSPURL]) and CRLDistributionPoints ([Server.CRLURL]) fields.
// Every serial number is Good (and absent from the CRL) until
// [Server.Revoke] revokes it; [Server.SetUnknown] makes the responder answer
// Unknown for a serial, as a responder does for a certificate it never
// issued.
//
// The OCSP responder takes both request forms of RFC 6960 appendix A: a POST
// of the DER request to OCSPURL, and a GET of OCSPURL + "/" + the URL-escaped
// base64 of the request (notation-core-go sends GET when that fits in 255
// bytes, as it does for one SHA-1 CertID). Answers are signed by the issuer
// itself (no delegated responder), with ThisUpdate a minute in the past and
// NextUpdate an hour ahead. A request whose CertID names another issuer gets
// the "unauthorized" error response, a request that does not parse gets
// "malformedRequest".
//
// The CRL at CRLURL is DER, signed by the issuer, with NextUpdate an hour
// ahead; it is issued again, with a greater CRL Number, after every change to
// the revoked set.
//
// Faults for timeout and error tests: [Server.SetHang] holds requests
// unanswered until the client gives up, [Server.SetStatus] answers with an
// HTTP status instead; both act on both endpoints, and [Endpoint.SetHang] /
// [Endpoint.SetStatus] on [Server.OCSP] or [Server.CRL] act on one (a hung
// OCSP responder in front of a working CRL is how notation-core-go's fallback
// from OCSP to CRL is tested). Each endpoint counts the requests it received.
package testrevocation
