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
//   - a body that arrives slower than a minimum rate over a window (1 KiB/s
//     over 30 s by default: curl's --speed-limit and --speed-time) fails
//     with a [*RateError], also an [ErrTimeout]: the stall timeout bounds
//     pauses, the rate bounds progress;
//   - [Client.WithDeadline] bounds a whole operation (10 minutes by
//     default); when it passes, the cause is a [*DeadlineError], also an
//     [ErrTimeout];
//   - 429 and 5xx answers are retried with exponential backoff;
//   - a redirect from https to http is refused, and at most 10 redirects
//     are followed; credentials are not forwarded to another host;
//   - with [Options.Trace], every request and response is written as a
//     line, without credentials, tokens, bodies or signed URL parameters.
//
// Failures are classified into the sentinels of errors.go ([ErrUnauthorized],
// [ErrNotFound], [ErrUnreachable], ...) by [Classify], so callers never
// look at status codes or error text.
package remote
