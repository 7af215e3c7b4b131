// Package testtuf runs a real TUF repository in process for wasmgate's tests,
// and attacks or breaks it on purpose.
//
// [New] builds the repository with go-tuf v2's metadata API: ed25519 keys
// generated for the test, one key and threshold 1 per top-level role,
// consistent snapshots on. It serves it on 127.0.0.1 through
// [httptest.Server], laid out like Sigstore's public-good repository
// (https://tuf-repo-cdn.sigstore.dev), so that sigstore-go's pkg/tuf client
// reads it unchanged:
//
//	<URL>/N.root.json                 every root version, from 1
//	<URL>/timestamp.json              the only unversioned file
//	<URL>/N.snapshot.json             every snapshot version
//	<URL>/N.targets.json              every targets version
//	<URL>/targets/<sha256 hex>.<name> every target ever published
//
// Old versions stay served, as on the CDN; a missing file answers 404, which
// is how a client learns that there is no newer root. Timestamp and snapshot
// describe the file they point to by version, length and sha256; targets
// carry a sha256 hash only, so the hash-prefixed path of a target is
// unambiguous.
//
// A test starts a client from [Repo.InitialRoot] (root version 1) and
// [Repo.URL], then stages what TUF exists to stop: a new version
// ([Repo.Publish]), a root key rotation ([Repo.RotateRoot]), a freeze
// ([Repo.ExpireTimestamp]), a rollback ([Repo.Rollback]), a tampered target
// ([Repo.TamperTarget]), and a repository that cannot be reached
// ([Repo.Offline], [Repo.FailStatus]). [Repo.Requests] counts the requests
// that reached the server.
//
// The tests of this package pin, against sigstore-go v1.3.0 and go-tuf
// v2.4.2, which error each of these yields; see repo_test.go.
package testtuf
