// Package sign writes cosign signatures over OCI artifacts, in both of
// cosign's formats, so that `cosign verify` accepts them:
//
//   - a sigstore bundle v0.3 (made by sigstore-go) holding a DSSE
//     envelope of the in-toto statement cosign v3 signs, stored as a
//     referrer of the manifest (FormatBundle, the default);
//   - the legacy simple-signing layer under the "sha256-<hex>.sig" tag,
//     appended to the signatures already there (FormatLegacy).
//
// Signing is always by digest: the caller resolves a tag once and signs
// the descriptor it got. Keys come from cosign's key files
// (internal/cosignkey). Keyless signing ([Keyless]) gets a short-lived
// Fulcio certificate for an OIDC identity and proves the signing time with
// a Rekor entry or RFC 3161 timestamps; it writes the bundle format only.
package sign
