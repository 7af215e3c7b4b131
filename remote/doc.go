// Package remote connects wasmgate to OCI registries through oras-go.
//
// One [Client] serves a whole process: it holds one HTTP client (so
// connections are reused across repositories and operations), one token
// cache and one credential store. Every registry a command touches goes
// through it, which is where the policies that a user of a security gate
// expects are enforced:
//
//   - credentials come from Docker's config.json and its credential helpers,
//     as docker, oras and cosign read them;
//   - plain HTTP is used only for hosts the caller names;
//   - a request that waits for response headers, or a body that stalls,
//     longer than the timeout fails with [ErrTimeout] (it is not retried:
//     a registry that hangs once will likely hang again);
//   - 429 and 5xx answers are retried with exponential backoff;
//   - a redirect from https to http is refused, and at most 10 redirects
//     are followed; credentials are not forwarded to another host.
//
// Failures are classified into the sentinels of errors.go ([ErrUnauthorized],
// [ErrNotFound], [ErrUnreachable], ...) by [Classify], so callers never
// look at status codes or error text.
package remote
