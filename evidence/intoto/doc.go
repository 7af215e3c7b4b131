// Package intoto reads in-toto evidence.
//
// Statements (v1 and v0.1) as attestations carry them inside DSSE
// envelopes: whether a statement is one, whether it is about an artifact
// (its subjects name the artifact's digest), and what its predicate says
// that a verifier uses — the build times and builder of a SLSA provenance
// predicate. It checks no signature of a statement: the envelope around
// one is verified by package evidence/cosign (sigstore-go) before its
// statement is read here.
//
// Supply-chain layouts and their links (VerifyLayout): a root layout
// signed by its owner, the links its steps' functionaries signed (from a
// directory as in-toto-run writes them, or from memory), thresholds,
// artifact rules and sublayouts, all decided by in-toto-golang's own
// functions. Inspections are never run: a layout that has any is refused
// (ErrInspections), since they are commands the layout tells its verifier
// to execute.
package intoto
