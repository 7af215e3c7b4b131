// Package evidence names the evidence formats wasmgate reads and writes —
// media types, artifact types, annotations, payload, statement and
// predicate types — so that discovery, the verifiers and the publishers
// spell them once. It has no code that decides anything and imports
// nothing: referrer discovery classifies by these names, the verifiers
// below check each format, and sign writes them.
//
// One package per format checks it, each the only place to read to know
// how that evidence is verified:
//
//   - [github.com/wasmgate/wasmgate/evidence/cosign]: cosign signatures and
//     attestations, sigstore bundles (v0.1–v0.3) and the legacy .sig/.att
//     layers, verified by sigstore-go;
//   - [github.com/wasmgate/wasmgate/evidence/notation]: Notation JWS and
//     COSE signatures, verified by notation-go;
//   - [github.com/wasmgate/wasmgate/evidence/intoto]: in-toto statements
//     (v1 and v0.1) inside DSSE envelopes: what a statement must say to be
//     about an artifact, and what its predicate says (SLSA provenance); and
//     supply-chain layouts with their links, verified by in-toto-golang;
//   - [github.com/wasmgate/wasmgate/evidence/dsse]: DSSE envelopes
//     ([MediaTypeDSSE]) of any payload type, verified with public keys by
//     go-securesystemslib.
//
// Above them, package attest checks attestations against requirements
// (predicate type, CEL conditions, age), sign publishes every format, and
// package verify composes them all under one trust policy.
package evidence
