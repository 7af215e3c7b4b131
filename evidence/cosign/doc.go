// Package cosign verifies cosign signatures over OCI artifacts, in both of
// cosign's formats:
//
//   - sigstore bundles stored as OCI referrers (cosign v3's default): a
//     DSSE envelope whose in-toto statement names the manifest digest, or a
//     message signature over it;
//   - the legacy format under the "sha256-<hex>.sig" tag (cosign v1/v2):
//     simple-signing payload layers whose critical.image
//     docker-manifest-digest names the manifest, the signature in a layer
//     annotation, and for keyless signatures the certificate, chain and
//     Rekor SET in further annotations.
//
// All cryptography is sigstore-go's: a legacy signature is turned into the
// v0.1 bundle it is equivalent to and verified by the same sigstore-go
// verifier as a v3 bundle, against an [Authority]: public keys, or keyless
// identities (issuer and SAN, exact or regular expression) with the trust
// material of a sigstore trusted_root.json, and the transparency-log and
// timestamp thresholds it sets. Verification is offline: nothing here
// calls the network except to fetch the signatures themselves.
//
// Each signature gets a [Result] that says what matched, the log entries
// and timestamps used, or, as a typed error, why it failed.
package cosign
