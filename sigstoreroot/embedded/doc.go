// Package embedded carries signed TUF snapshots of Sigstore trust roots
// inside the binary, so that a machine that has never been online can
// still verify keyless signatures, and says how old they are.
//
// A snapshot is the TUF metadata of a repository as its mirror serves it
// — the root.json chain, timestamp.json, N.snapshot.json, N.targets.json
// — and the trusted_root.json target they vouch for. It is verified each
// time the program starts (once, on the first call of [PublicGood]) with
// go-tuf v2's trustedmetadata, the code a TUF client uses on what it
// downloads: root chain, timestamp, snapshot, targets, then the target's
// length and hashes. Nothing here re-implements a signature check. The
// only difference from a live client is the reference time: the snapshot
// is verified at its own time ([Snapshot.Taken], the timestamp's signing
// time) rather than now, and [Snapshot.Expires] says when the repository
// stopped vouching for it; the caller decides what age it accepts.
//
// # Public-good instance (https://tuf-repo-cdn.sigstore.dev)
//
// Files in publicgood/, verified as root v14 → v15, timestamp v799,
// snapshot v165, targets v14. Taken 2026-10-03T01:39:25Z (timestamp v799
// expires 2026-10-10T01:39:25Z and tuf-on-ci signs timestamps 7 days
// before their expiry); Expires 2026-10-10T01:39:25Z. The trusted root
// has Rekor v1 (rekor.sigstore.dev) and the Rekor v2 shard
// log2025-1.rekor.sigstore.dev, the timestamp.sigstore.dev TSA, two
// Fulcio CAs and two CT logs.
//
// The source of truth is github.com/sigstore/root-signing (metadata/ is
// what the mirror publishes, under consistent-snapshot names). Where the
// stored copy of that repository did not hold the needed version, the
// bytes come from a copy retained elsewhere; every byte is authenticated
// by the verification above, and the sha256 of each file also matches
// the digest that independent observers of the mirror recorded for it.
//
//   - 14.root.json (sha256 a0dfcc5d51c1ce4a66b541a3fff0afa97225ccc40456b21140bb2e2f113122e2):
//     the trust anchor. Byte-identical to pkg/tuf/repository/root.json of
//     github.com/sigstore/sigstore-go@v1.3.0, the root tuf.DefaultRoot()
//     returns, authenticated by go.sum (a test keeps them equal).
//   - 15.root.json (sha256 73747011d0857ada15479a16c4cae0f3ed03aac698b523b97e1de314ac9d9ca8,
//     5630 bytes, expires 2026-11-20T13:58:18Z, 5 of 5 signatures): from
//     github.com/mannyc2/effect-build@3c3841c19bed45371539ab611c327850f8598eb6,
//     tooling/sigstore/tuf/root-v15.json.base64 (decoded). Its signed
//     part is sigstore/root-signing's metadata/root_history/15.root.json
//     (signing-event version at 052365a341d9e22e877f1b41167dc7ba3b0329bb
//     carries the same signature for key e71a54d5…).
//   - timestamp.json (v799, sha256 b8cd928494ed0736a71f93bf0bcb0e1d5bcfc4b871bc564b235306dac513b783):
//     github.com/sigstore/root-signing@5888f358fc4ab58874447259edf83790261fc616,
//     metadata/timestamp.json.
//   - 165.snapshot.json (sha256 8f784ab614ec62bfdd5f568eb2a2e3011668449ba235ed4eb7befa99f8469933,
//     1760 bytes, expires 2036-05-15T08:09:16Z): from
//     github.com/mannyc2/effect-build@5c932107421dfbf71867d4908042409f291e8e0e,
//     tooling/sigstore/tuf/snapshot-v165.json.base64 (decoded).
//   - 14.targets.json (sha256 6a697f7f8908c8ab26c11786ecb490b54acec97fa8c802e399f065f8a0cc1acd,
//     4942 bytes, expires 2036-05-09T09:00:52Z, 5 of 5 signatures): from
//     github.com/mannyc2/effect-build@5c932107421dfbf71867d4908042409f291e8e0e,
//     tooling/sigstore/tuf/targets-v14.json.base64 (decoded). Its signed
//     part is sigstore/root-signing's metadata/targets.json version 14
//     (signing-event version at 052365a341d9e22e877f1b41167dc7ba3b0329bb).
//   - targets/6494e21ea73fa7ee769f85f57d5a3e6a08725eae1e38c755fc3517c9e6bc0b66.trusted_root.json
//     (6787 bytes): sigstore/root-signing targets/trusted_root.json as
//     served at https://tuf-repo-cdn.sigstore.dev/targets/<sha256>.trusted_root.json.
//     Rebuilt from a re-indented copy of it in a public source file and
//     kept only because its length and sha256 equal what targets v14 lists.
//
// sigstore/root-signing also holds root version 16 (expires
// 2027-04-22T19:27:31Z), but only as an unfinished signing-event version
// (1 of the 3 signatures it needs): it is not embedded, and the chain
// ends at v15. A live TUF client started from [Snapshot.TUFRoot] (v15)
// fetches 16.root.json and later itself.
//
// # GitHub's instance (https://tuf-repo.github.com)
//
// Only its TUF root is embedded ([GitHubTUFRoot]): github/root.json,
// version 3, sha256 98cba97be9075bc98b2322de3de85fbd1b70ec7392991dfd2f53d215bede1a8d,
// the file [GitHubRootPath] of [GitHubRootModule] (the root the GitHub
// CLI embeds; the module zip is authenticated by the Go checksum
// database, h1:H+VDgY19lmnkzSR6+sXiVD/oP8/cDMpX/8a9kFG8hmM=). No signed
// snapshot of GitHub's trusted_root.json was found, so [GitHub] returns
// [ErrNotEmbedded].
//
// # Regenerating
//
// README.md in this directory gives the steps: fetch the chain and the
// newest consistent set from the mirror, replace publicgood/, update the
// digests in embedded_test.go and the dates above, run
// go test -race ./sigstoreroot/embedded/. The tests refuse a snapshot
// whose files do not verify, so a bad copy cannot be committed unnoticed.
package embedded
