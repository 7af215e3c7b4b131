// Package testregistry runs real OCI registries in process for wasmgate's
// tests, and breaks them on purpose.
//
// Two registries are offered because they disagree in ways a client must
// survive (each pinned by a test here):
//
//   - [Distribution] is distribution/distribution v3 (the "registry:3" image)
//     with its in-memory storage driver. It has no Referrers API: GET
//     /v2/<repo>/referrers/<digest> answers a plain-text 404 (not a JSON
//     error), so clients need the "sha256-<hex>" tag fallback. It hides an
//     OCI manifest (404 MANIFEST_UNKNOWN) from a request whose Accept header
//     does not list the OCI media type.
//   - [GGCR] is go-containerregistry's pkg/registry with the Referrers API on.
//     It reports each referrer's config.mediaType as its artifactType (the
//     manifest's own artifactType is ignored), ignores the artifactType
//     filter, lists referrers in no particular order, and answers 404
//     NAME_UNKNOWN for a repository that holds nothing yet. It sends no
//     OCI-Subject header on a manifest PUT, so oras-go, unless told the
//     registry has the API, also writes the fallback tag: the same referrer
//     is then listed by the API and by the tag.
//
// Both send Docker-Content-Digest and Content-Length on every manifest
// HEAD/GET and blob GET; neither answers chunked.
//
// Both listen on 127.0.0.1 through [httptest.Server] and stop at the end of
// the test. Every request passes through [Faults], an http.Handler
// middleware that logs requests and, on demand, answers with an error, hangs,
// dribbles, truncates, tampers with or replaces the body, or puts the
// registry behind a login ([BasicAuth], or the token flow of [TokenAuth]).
// Faults sit on the HTTP layer only, so they work in front of any registry.
//
// [NewDistributionHandler], [NewGGCRHandler] and [ListenLoopback] need no
// testing.TB; cmd/wasmgate-testregistry builds on them to run either registry
// as a process for CLI tests, benchmarks and manual use.
package testregistry
