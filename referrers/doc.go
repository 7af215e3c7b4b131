// Package referrers finds, classifies, attaches and copies the artifacts
// that refer to a subject: signatures, attestations, SBOMs.
//
// Registries disagree on how referrers are found, so [Discover] asks every
// way there is and reports which one answered each referrer:
//
//   - the OCI 1.1 Referrers API (paginated, bounded in pages), when the
//     registry has it;
//   - else the tag schema fallback: an image index tagged
//     "<alg>-<hex>" (sha256-…), which the pushers maintain;
//   - and cosign's legacy tags "sha256-<hex>.sig" and ".att", which cosign
//     v1/v2 wrote and which users migrating to v3 still have.
//
// Nothing a registry lists is trusted as listed. Every referrer that is
// returned was fetched by digest within a size bound, hashed, parsed, and
// its subject checked against the subject digest (cosign's legacy tags
// carry no subject: their binding is the signed payload, which the cosign
// verifier checks). Referrers that break a rule are returned in
// [Result.Rejected] with a typed reason, never in [Result.Referrers].
//
// The artifact type of a referrer is decided from its own manifest
// (artifactType, else config.mediaType, as the spec defines it), not from
// the index entry: some registries report the config media type there.
package referrers
