package remote

import (
	"context"
	"fmt"
	"time"
)

// DefaultDeadline bounds one whole operation with registries (a pull, a
// push, a verification of several references): every request, retry and
// pause of it together. Ten minutes is ample for wasm artifacts (a
// 256 MiB layer needs about 450 KB/s to make it) and short enough that a
// CI job stuck on a registry fails while someone still watches it.
const DefaultDeadline = 10 * time.Minute

// DeadlineError is the cause of a context bounded by [WithDeadline] once
// its deadline passed. It wraps [ErrTimeout] and context.DeadlineExceeded.
// net/http reports a request cut by the deadline with this cause, so
// errors.As finds it in the error of an operation that ran out of time.
type DeadlineError struct {
	Deadline time.Duration
}

func (e *DeadlineError) Error() string {
	return fmt.Sprintf("not done within the deadline of %s", e.Deadline)
}

// Unwrap makes errors.Is(err, ErrTimeout) and errors.Is(err,
// context.DeadlineExceeded) hold.
func (e *DeadlineError) Unwrap() []error { return []error{ErrTimeout, context.DeadlineExceeded} }

// WithDeadline bounds ctx to d from now, with a [*DeadlineError] as the
// cause when the bound passes. d == 0 means [DefaultDeadline]; d < 0 means
// no bound (the returned context is then only cancellable).
func WithDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	switch {
	case d == 0:
		d = DefaultDeadline
	case d < 0:
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, &DeadlineError{Deadline: d})
}

// WithDeadline bounds ctx by the client's [Options.Deadline]. The client
// sees requests, not operations, so the caller marks where an operation
// begins: the CLI bounds each command this way.
func (c *Client) WithDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return WithDeadline(ctx, c.deadline)
}
