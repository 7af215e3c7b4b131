package testkit_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// The context has a deadline no later than Timeout from now and ends with
// the test, before the test's cleanups run.
func TestContext(t *testing.T) {
	var ctx context.Context
	t.Run("inner", func(t *testing.T) {
		ctx = testkit.Context(t)
		d, ok := ctx.Deadline()
		if !ok || time.Until(d) > testkit.Timeout {
			t.Errorf("deadline %v (set %v), want at most %v from now", d, ok, testkit.Timeout)
		}
		if td, ok := t.Deadline(); ok && !d.Before(td) {
			t.Errorf("deadline %v is not before the test binary's %v", d, td)
		}
		t.Cleanup(func() {
			if ctx.Err() == nil {
				t.Error("the context outlives the test into its cleanups")
			}
		})
		if ctx.Err() != nil {
			t.Fatalf("ended early: %v", ctx.Err())
		}
	})
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("after the test: %v, want context.Canceled", ctx.Err())
	}
}

// Open gives what access.Opener gives, for a registry (with the Referrers
// API lister) and for a layout (without), and Push puts a module there.
func TestOpenAndPush(t *testing.T) {
	tiny := filepath.Join("..", "..", "..", "testdata", "wasm", "tiny.wasm")
	reg := testregistry.GGCR(t)
	layout := "oci-layout:" + filepath.Join(t.TempDir(), "app") + ":v1"
	for name, tc := range map[string]struct {
		reg     *testregistry.Registry
		ref     string
		wantAPI bool
	}{
		"registry": {reg, reg.Ref("wasm/tiny", "v1"), true},
		"layout":   {nil, layout, false},
	} {
		t.Run(name, func(t *testing.T) {
			s := testkit.Open(t, tc.reg, tc.ref, remote.Options{})
			if (s.Discover.API != nil) != tc.wantAPI {
				t.Errorf("Discover.API = %v, want one: %v", s.Discover.API, tc.wantAPI)
			}
			if _, err := s.Target.Resolve(testkit.Context(t), "v1"); !errors.Is(err, errdef.ErrNotFound) {
				t.Fatalf("resolve before the push: %v, want ErrNotFound", err)
			}
			want := testkit.Push(t, s.Target, tiny, nil, "v1").Manifest
			got, err := s.Target.Resolve(testkit.Context(t), "v1")
			if err != nil || got.Digest != want.Digest {
				t.Fatalf("resolve v1: %v %v, want %s", got.Digest, err, want.Digest)
			}
		})
	}
}

// The client speaks plain HTTP to the registry it was made for only.
func TestClient(t *testing.T) {
	reg := testregistry.Distribution(t)
	c := testkit.Client(t, reg, remote.Options{PlainHTTP: []string{"other.test:5000"}})
	if !c.IsPlainHTTP(reg.Host) || !c.IsPlainHTTP("other.test:5000") || c.IsPlainHTTP("registry.test") {
		t.Error("plain HTTP for the wrong hosts")
	}
	if testkit.Client(t, nil, remote.Options{}).IsPlainHTTP(reg.Host) {
		t.Error("plain HTTP without a registry")
	}
}

func TestPublicKeyRoundTrip(t *testing.T) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "k.pub")
	testkit.WritePublicKey(t, path, k.Public())
	if got, ok := testkit.PublicKey(t, path).(*ecdsa.PublicKey); !ok || !got.Equal(k.Public()) {
		t.Fatalf("read back %T %v", got, got)
	}
}
