// Package attest verifies in-toto attestations attached to an OCI artifact
// and checks what they say with CEL conditions. It reads four formats:
// cosign's two (sigstore bundle referrers and the legacy "sha256-<hex>.att"
// tag), a referrer holding a signed DSSE envelope ("dsse", verified against
// the authority's keys like a legacy layer), and a referrer holding an
// unsigned in-toto statement, as `oras attach` writes one
// ("in-toto+signature"): that statement is trusted only when the referrer
// manifest itself carries a cosign signature of the authority, whose digest
// covers the statement.
//
// A SLSA provenance predicate (v1 or v0.2) is summarized in
// [Result.Provenance]; other predicates (SPDX, CycloneDX, ...) are checked
// by their presence and the conditions alone.
//
// Signatures are verified by package evidence/cosign (sigstore-go); this
// package adds what an attestation needs beyond a signature: the DSSE
// payload must be an in-toto statement (v1 or v0.1) naming the manifest
// digest, of the required predicate type, whose predicate satisfies every
// [Condition] and, with [Requirement.MaxAge], is recent enough.
//
// A condition is a CEL expression over three variables:
//
//	predicate      the statement's predicate, a map
//	predicateType  the statement's predicate type, a string
//	subject        the statement's subjects, a list of {name, digest} maps
//
// for example
//
//	predicate.runDetails.builder.id == "https://github.com/acme/builder@v1"
//
// It must be boolean, and each evaluation is bounded in cost
// ([DefaultCostLimit]) and time ([DefaultEvalTimeout]).
//
// Age: a key-signed attestation without transparency-log entry or signed
// timestamp has no verified time. Its age is then taken from the time
// fields of a provenance predicate (SLSA v1 runDetails.metadata.finishedOn
// or startedOn, SLSA v0.2 metadata.buildFinishedOn or buildStartedOn), which
// the signer claims; without them MaxAge cannot be checked and the
// attestation fails closed with ErrNoTime.
package attest
