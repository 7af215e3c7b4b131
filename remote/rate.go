package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultMinRate is the slowest a registry may send a body, in bytes per
// second, averaged over [DefaultMinRateWindow]: curl's --speed-limit idea.
// 1 KiB/s is far below any working link (a 256 MiB layer at that rate
// would take three days) yet catches a registry that dribbles a byte at a
// time, which the stall timeout cannot see because bytes keep coming.
const DefaultMinRate = 1 << 10

// DefaultMinRateWindow is how long a transfer must stay below the minimum
// rate before it fails: curl's --speed-time. It equals [DefaultTimeout],
// so a blip shorter than a stall is never punished.
const DefaultMinRateWindow = 30 * time.Second

// RateError is a response body that arrived slower than the minimum rate.
// It wraps [ErrTimeout] and context.DeadlineExceeded, so it classifies as a
// timeout (transient: worth a retry later) like a stall.
type RateError struct {
	Method string
	URL    string // without its query, where signed URLs carry credentials
	// Bytes arrived in Waited, the time spent waiting on the registry
	// during the window that failed.
	Bytes   int64
	Waited  time.Duration
	MinRate int64 // bytes per second
}

func (e *RateError) Error() string {
	return fmt.Sprintf("%s %s: %d bytes in %s (%.0f bytes/s), below the minimum rate of %d bytes/s (--min-rate; 0 turns the check off)",
		e.Method, e.URL, e.Bytes, e.Waited.Round(time.Millisecond), float64(e.Bytes)/e.Waited.Seconds(), e.MinRate)
}

// Unwrap makes errors.Is(err, ErrTimeout) and errors.Is(err,
// context.DeadlineExceeded) hold, as they do for a stall.
func (e *RateError) Unwrap() []error { return []error{ErrTimeout, context.DeadlineExceeded} }

// rateTransport fails a response body that arrives slower than min bytes
// per second over a window. Only the time spent waiting on the registry
// counts (the time inside the body's Read), not the time the reader spends
// elsewhere: a slow consumer is not a slow registry.
//
// Uploads are not measured: the transport reads a request body only as
// fast as the registry takes it, so a registry that takes it slowly shows
// as pauses between reads, which the stall timeout already bounds, and the
// command's deadline bounds the rest.
type rateTransport struct {
	base   http.RoundTripper
	min    int64
	window time.Duration
}

func (t *rateTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.Body == nil || resp.Body == http.NoBody {
		return resp, err
	}
	resp.Body = &rateBody{ReadCloser: resp.Body, t: t, req: req}
	return resp, nil
}

type rateBody struct {
	io.ReadCloser
	t   *rateTransport
	req *http.Request
	// The current window: time spent inside Read, and bytes it returned.
	waited time.Duration
	got    int64
	failed error
}

func (b *rateBody) Read(p []byte) (int, error) {
	if b.failed != nil {
		return 0, b.failed
	}
	start := time.Now()
	n, err := b.ReadCloser.Read(p)
	b.waited += time.Since(start)
	b.got += int64(n)
	if err != nil || b.waited < b.t.window {
		// The end of the body (or a stall, a reset) is not judged on rate.
		return n, err
	}
	if float64(b.got) < float64(b.t.min)*b.waited.Seconds() {
		b.failed = &RateError{Method: b.req.Method, URL: redact(b.req), Bytes: b.got, Waited: b.waited, MinRate: b.t.min}
		return n, b.failed
	}
	b.waited, b.got = 0, 0
	return n, nil
}
