// Package sigstoretest issues Sigstore bundles the way the public Sigstore
// instances and GitHub Actions issue them, and the trusted root that
// verifies them, so that wasmgate's verifier can be checked against
// sigstore-go's reference verification and the cosign CLI on the very same
// inputs, including every variation a verifier has to get right.
//
// It is test support only: nothing in it is hardened, it trusts its
// callers, and product code must never import it.
//
// One [New] is one Sigstore deployment with its own keys, made when the
// test runs (nothing is checked in):
//
//   - Fulcio: a root and an intermediate CA (ECDSA P-384, like
//     fulcio.sigstore.dev) issuing 10-minute code-signing leaves with an
//     email, URI or otherName SAN, the OIDC issuer extension in its v1 (raw)
//     and v2 (DER UTF8String) forms and, for GitHub Actions, the workflow
//     extensions Fulcio writes ([GitHubWorkflow]). Leaves carry an embedded
//     SCT made as Fulcio makes it: a precertificate with the poison
//     extension is logged, and the final certificate repeats its TBS with
//     the SCT list in place of the poison.
//   - A CT log (ECDSA P-256) in the trusted root, and a second one that is
//     not, for SCTs a verifier must not count.
//   - Rekor v1 (ECDSA P-256): hashedrekord 0.0.1 and dsse 0.0.1 entries with
//     an integrated time, a signed entry timestamp and an inclusion proof
//     with a signed checkpoint, in a sharded log (the entry's logIndex is
//     global, the proof's index is within the active shard) of several
//     leaves.
//   - Rekor v2 (rekor-tiles; Ed25519 like log2025-1.rekor.sigstore.dev, or
//     ECDSA P-256 with [Options.RekorV2ECDSA]): hashedrekord 0.0.2 entries,
//     for message signatures and for DSSE envelopes (over the envelope's
//     PAE, as rekor-tiles v2 requires), integrated time 0, no promise, an
//     inclusion proof whose checkpoint is a signed note with the log's
//     origin, optionally co-signed by witnesses (C2SP cosignature/v1).
//     The deprecated dsse 0.0.2 entry of rekor-tiles v1 is available too
//     ([Sig.LegacyDSSEEntry]), for verifiers that must refuse it.
//   - A timestamp authority: root, intermediate and a leaf with the
//     critical timeStamping EKU, answering RFC 3161 requests over the
//     signature as sigstore's timestamp-authority does.
//
// Bundles are assembled by sigstore-go's own client, sign.Bundle, which
// talks to in-process stand-ins for Fulcio, Rekor v1, Rekor v2 and the TSA
// (no network, not even loopback). The server side reuses the servers'
// libraries wherever one exists: rekor's types for canonical entries, its
// checkpoint code, rekor-tiles' hashedrekord.ToLogEntry and note signer,
// certificate-transparency-go for SCTs, digitorus/timestamp for responses,
// transparency-dev/merkle for the trees. The one hand-written encoding is
// the witness cosignature (see witness.go): the library that implements
// it, transparency-dev/formats/note, needs a module this go.mod does not
// require.
//
// [Sigstore.Sign] signs artifact bytes (a message signature) and
// [Sigstore.Attest] an in-toto Statement (a DSSE envelope); a [Sig] says
// how, and its zero value is the common case: keyless, an email SAN, a
// valid SCT, a Rekor v1 entry, no timestamp authority.
// [Sigstore.TrustedRoot] and [Sigstore.TrustedRootJSON] give the trusted
// root, with [RootOption]s to leave services out or change their
// validity windows.
package sigstoretest
