// Package intoto reads in-toto statements (v1 and v0.1) as attestations
// carry them inside DSSE envelopes: whether a statement is one, whether it
// is about an artifact (its subjects name the artifact's digest), and
// what its predicate says that a verifier uses — the build times and
// builder of a SLSA provenance predicate. It checks no signature: the
// envelope around a statement is verified by package evidence/cosign
// (sigstore-go) before its statement is read here.
package intoto
