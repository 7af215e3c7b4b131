// Package testkit is what wasmgate's tests share: helpers that no product
// code imports. The rigs that stand in for a service — a registry, Fulcio,
// a TUF repository, a revocation responder, the peer CLIs — are its
// siblings under internal/testrig; testkit is the plumbing around them.
//
//   - [Context]: a context for a test's I/O, ended with the test and
//     bounded by [Timeout].
//   - [Client]: the registry client wasmgate builds, for a test registry
//     (plain HTTP, no Docker credentials).
//   - [Open]: a reference opened as wasmgate opens it (access.Opener): the
//     oras target and the referrer discovery options, as a [Site].
//   - [Push]: a module packed and pushed as `wasmgate push` does.
//   - [ReadFile], [TempFile], [PublicKey], [WritePublicKey]: files,
//     failing the test on error.
//   - [ModuleDir], [ModuleFile]: upstream test data in the module cache.
//
// testkit imports access and referrers (and so artifact, permissions,
// evidence, cache, remote and internal/ocilayout): the in-package
// (white-box) tests of those packages cannot import it; their external
// (package x_test) tests can.
package testkit
