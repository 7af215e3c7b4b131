package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// errStalled is the cancellation cause set when a request stalls.
var errStalled = errors.New("stalled")

// stallTransport fails a request that waits longer than timeout for its
// response headers, or whose body delivers no byte for timeout. A slow but
// steady transfer of a large blob is fine; a silent server is not.
type stallTransport struct {
	base    http.RoundTripper
	timeout time.Duration
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancelCause(req.Context())
	timer := time.AfterFunc(t.timeout, func() { cancel(errStalled) })
	req = req.WithContext(ctx)
	if req.Body != nil && req.Body != http.NoBody {
		// Sending a large blob is progress too: each chunk the transport
		// reads from the body resets the timer.
		req.Body = &progressBody{ReadCloser: req.Body, timer: timer, timeout: t.timeout}
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		timer.Stop()
		stalled := errors.Is(context.Cause(ctx), errStalled)
		cancel(nil)
		if stalled {
			return nil, t.timeoutError(req, "waiting for a response")
		}
		return nil, err
	}
	timer.Reset(t.timeout)
	resp.Body = &stallBody{ReadCloser: resp.Body, t: t, req: req, ctx: ctx, cancel: cancel, timer: timer}
	return resp, nil
}

func (t *stallTransport) timeoutError(req *http.Request, while string) error {
	return fmt.Errorf("%w: no progress for %s while %s (%s %s): %w",
		ErrTimeout, t.timeout, while, req.Method, redact(req), context.DeadlineExceeded)
}

type stallBody struct {
	io.ReadCloser
	t      *stallTransport
	req    *http.Request
	ctx    context.Context
	cancel context.CancelCauseFunc
	timer  *time.Timer
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.t.timeout)
	}
	if err != nil && err != io.EOF && errors.Is(context.Cause(b.ctx), errStalled) {
		return n, b.t.timeoutError(b.req, "reading the body")
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.timer.Stop()
	b.cancel(nil)
	return b.ReadCloser.Close()
}

type progressBody struct {
	io.ReadCloser
	timer   *time.Timer
	timeout time.Duration
}

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.timer.Reset(b.timeout)
	}
	return n, err
}

// redact drops the query, where pre-signed blob URLs carry credentials.
func redact(req *http.Request) string {
	u := *req.URL
	u.RawQuery = ""
	u.User = nil
	return u.String()
}
