package remote_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// rateWindow is the window the rate tests use: short, so that each
// finishes in a fraction of a second.
const rateWindow = 100 * time.Millisecond

// seedBlob pushes size bytes to repo x of reg and returns their descriptor.
func seedBlob(t *testing.T, reg *testregistry.Registry, size int) (ocispec.Descriptor, []byte) {
	t.Helper()
	data := bytes.Repeat([]byte("wasm"), size/4)
	desc, err := oras.PushBytes(testkit.Context(t), reg.Repository(t, "x"), "application/octet-stream", data)
	if err != nil {
		t.Fatal(err)
	}
	return desc, data
}

func fetchBlob(t *testing.T, c *remote.Client, reg *testregistry.Registry, desc ocispec.Descriptor) ([]byte, error) {
	t.Helper()
	return content.FetchAll(testkit.Context(t), c.Repository(repoRef(t, reg.Ref("x", ""))), desc)
}

// A registry that sends a blob a byte at a time never pauses long enough
// for the stall timeout; the minimum rate fails it, as a timeout, within
// about one window.
func TestMinRateFailsATrickle(t *testing.T) {
	reg := testregistry.GGCR(t)
	desc, _ := seedBlob(t, reg, 4096) // 80 s at the trickle's 1 byte per 50 ms
	reg.Faults.Inject("GET", "/blobs/", testregistry.Slow(20))
	c := testkit.Client(t, reg, remote.Options{Timeout: 5 * time.Second, MinRate: 1024, MinRateWindow: rateWindow})
	start := time.Now()
	_, err := fetchBlob(t, c, reg, desc)
	took := time.Since(start)

	var re *remote.RateError
	if !errors.As(err, &re) {
		t.Fatalf("err = %v, want a *remote.RateError", err)
	}
	if !errors.Is(err, remote.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v: want ErrTimeout and DeadlineExceeded, as a stall", err)
	}
	if err := remote.Classify("fetch", reg.Host, err); !errors.Is(err, remote.ErrTimeout) {
		t.Errorf("classified as %v, want ErrTimeout", err)
	}
	if re.MinRate != 1024 || re.Waited < rateWindow || re.Bytes*int64(time.Second) >= 1024*int64(re.Waited) {
		t.Errorf("RateError %+v does not describe a transfer below 1024 B/s over %s", re, rateWindow)
	}
	if took > 2*time.Second {
		t.Errorf("failing the trickle took %s, want about one window (%s)", took, rateWindow)
	}
	if reg.Faults.Count("GET", "/blobs/") != 1 {
		t.Errorf("the blob was requested %d times, want once: a slow registry is not retried", reg.Faults.Count("GET", "/blobs/"))
	}
}

// The same slow transfer passes with the check off (a negative MinRate),
// and a fast one is unaffected by a short window.
func TestMinRateOffAndFastTransfers(t *testing.T) {
	reg := testregistry.GGCR(t)
	// 1 s at 200 B/s: ten windows, so that a loaded machine (whose reader
	// finds bytes already buffered, and waits less inside Read) still sees
	// one whole window below the rate.
	slow, slowData := seedBlob(t, reg, 200)
	fast, fastData := seedBlob(t, reg, 1<<20)
	reg.Faults.Inject("GET", "/blobs/"+slow.Digest.String(), testregistry.Slow(200))

	on := testkit.Client(t, reg, remote.Options{MinRate: 1024, MinRateWindow: rateWindow})
	if _, err := fetchBlob(t, on, reg, slow); !errors.As(err, new(*remote.RateError)) {
		t.Fatalf("slow blob with the check on: %v, want a RateError", err)
	}
	off := testkit.Client(t, reg, remote.Options{MinRate: -1, MinRateWindow: rateWindow})
	if got, err := fetchBlob(t, off, reg, slow); err != nil || !bytes.Equal(got, slowData) {
		t.Fatalf("slow blob with the check off: %v", err)
	}
	if got, err := fetchBlob(t, on, reg, fast); err != nil || !bytes.Equal(got, fastData) {
		t.Fatalf("fast blob with the check on: %v", err)
	}
}

// Only the time spent waiting on the registry counts: a reader that
// pauses longer than the window between reads of a fast body is not
// failed for its own slowness.
func TestMinRateIgnoresASlowReader(t *testing.T) {
	reg := testregistry.GGCR(t)
	desc, data := seedBlob(t, reg, 256<<10)
	c := testkit.Client(t, reg, remote.Options{MinRate: 1 << 20, MinRateWindow: rateWindow})
	rc, err := c.Repository(repoRef(t, reg.Ref("x", ""))).Fetch(testkit.Context(t), desc)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var got bytes.Buffer
	if _, err := io.CopyN(&got, rc, 1024); err != nil {
		t.Fatal(err)
	}
	// The consumer's own pause (not a synchronisation): two windows in
	// which the registry is not waited on at all.
	time.Sleep(2 * rateWindow)
	if _, err := io.Copy(&got, rc); err != nil {
		t.Fatalf("after the reader's pause: %v", err)
	}
	if digest.FromBytes(got.Bytes()) != desc.Digest || !bytes.Equal(got.Bytes(), data) {
		t.Error("body differs")
	}
}
