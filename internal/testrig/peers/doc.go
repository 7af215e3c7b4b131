// Package peers drives the real tools wasmgate must interoperate with, so
// that tests can put genuine referrers on a test registry and check that
// wasmgate discovers, classifies and verifies them.
//
// The peers are the cosign and regctl CLIs (run as processes, found by
// [Binary]), notation-go (the library the notation CLI is built on; the CLI
// itself is not installable here) and oras-go (used the way `oras attach`
// uses it). What each writes is recorded in /work/shared/FORMATS.md and
// pinned by this package's own tests against both registries of
// internal/testrig/testregistry.
//
// Every helper takes a testing.TB and fails the test on error, except the
// Cosign verify helpers, which return cosign's error for tests that want to
// prove cosign accepts (or refuses) something.
//
// Isolation: a CLI runs with a clean environment, not the user's. HOME,
// DOCKER_CONFIG, XDG dirs, TUF_ROOT and REGCTL_CONFIG point into a temporary
// directory; COSIGN_PASSWORD is empty and COSIGN_YES is true; HTTP(S)_PROXY
// point at a closed port on 127.0.0.1, so any attempt to reach the network
// (Rekor, Fulcio, the TUF mirror) fails at once, while the loopback
// registries, which Go never proxies, are reached directly. Every command
// runs under a timeout.
//
// Fallback tags: on a registry without the Referrers API (distribution),
// every producer of a referrer reads, extends and rewrites one index tagged
// sha256-<hex> per subject, so two producers racing on one subject can lose
// an entry. Put several referrers on one subject one after another; run in
// parallel only on different subjects.
package peers
