package testkit

import (
	"context"
	"testing"
	"time"
)

// Timeout bounds each context [Context] gives: long enough for the slowest
// single step a test takes (a cosign CLI round trip or a signing against
// the in-process Sigstore, under -race), short enough that a hung registry
// fails the test with an error rather than stalling the package until
// go test's own timeout panics.
const Timeout = 2 * time.Minute

// deadlineMargin is left between a context's deadline and the test binary's
// (go test -timeout), so that the test can still report the failure.
const deadlineMargin = 5 * time.Second

// Context is a context for the I/O of one test. It ends when the test
// does (it is derived from t.Context(), so it is canceled before the
// test's cleanups run) or at its deadline: [Timeout] from now, or a few
// seconds before the test binary's own deadline when that comes first.
func Context(t testing.TB) context.Context {
	deadline := time.Now().Add(Timeout)
	if dt, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dt.Deadline(); ok && d.Add(-deadlineMargin).Before(deadline) {
			deadline = d.Add(-deadlineMargin)
		}
	}
	ctx, cancel := context.WithDeadline(t.Context(), deadline)
	t.Cleanup(cancel)
	return ctx
}
