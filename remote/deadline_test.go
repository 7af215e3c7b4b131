package remote_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// A registry that answers every request just inside the stall timeout
// never trips it; the deadline bounds the whole operation, with a cause
// that classifies as a timeout.
func TestDeadlineBoundsAnOperation(t *testing.T) {
	reg := testregistry.GGCR(t)
	seed(t, reg, "x")
	reg.Faults.Inject("", "/v2/", testregistry.Delay(100*time.Millisecond))
	const deadline = 350 * time.Millisecond
	c := testkit.Client(t, reg, remote.Options{Timeout: time.Second, Deadline: deadline})
	ctx, cancel := c.WithDeadline(testkit.Context(t))
	defer cancel()
	repo := c.Repository(repoRef(t, reg.Ref("x", "")))

	start := time.Now()
	var err error
	// Each resolve takes one delayed request; without the deadline all 50
	// would pass, in 5 s.
	for i := 0; i < 50 && err == nil; i++ {
		_, err = repo.Resolve(ctx, "v1")
	}
	took := time.Since(start)
	var de *remote.DeadlineError
	if !errors.As(err, &de) || de.Deadline != deadline {
		t.Fatalf("err = %v, want a *remote.DeadlineError of %s", err, deadline)
	}
	if !errors.Is(err, remote.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want ErrTimeout and DeadlineExceeded", err)
	}
	if err := remote.Classify("resolve", reg.Host, err); !errors.Is(err, remote.ErrTimeout) {
		t.Errorf("classified as %v, want ErrTimeout", err)
	}
	if took < deadline || took > 2*time.Second {
		t.Errorf("took %s, want about the deadline of %s", took, deadline)
	}
}

func TestWithDeadlineDefaults(t *testing.T) {
	ctx := context.Background()
	c0, cancel := remote.WithDeadline(ctx, 0)
	defer cancel()
	if d, ok := c0.Deadline(); !ok || time.Until(d) > remote.DefaultDeadline || time.Until(d) < remote.DefaultDeadline-time.Minute {
		t.Errorf("0: deadline %v %v, want DefaultDeadline from now", d, ok)
	}
	none, cancel := remote.WithDeadline(ctx, -1)
	defer cancel()
	if _, ok := none.Deadline(); ok {
		t.Error("a negative deadline set one")
	}
	c := testkit.Client(t, nil, remote.Options{Deadline: -1})
	unbounded, cancel := c.WithDeadline(ctx)
	defer cancel()
	if _, ok := unbounded.Deadline(); ok {
		t.Error("Options.Deadline < 0 set a deadline")
	}
}
