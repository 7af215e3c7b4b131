package testkit

import (
	"testing"

	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

// Client is the registry client wasmgate builds ([remote.New]) with opts,
// made fit for a test: reg's host, when reg is not nil, is added to
// opts.PlainHTTP (a test registry listens on 127.0.0.1 without TLS), and a
// nil opts.Credentials is an empty in-memory store instead of Docker's, so
// that the logins of the machine running the test never reach a test
// registry and a test's own logins stay in the test.
func Client(t testing.TB, reg *testregistry.Registry, opts remote.Options) *remote.Client {
	t.Helper()
	if reg != nil {
		opts.PlainHTTP = append(append([]string(nil), opts.PlainHTTP...), reg.Host)
	}
	if opts.Credentials == nil {
		opts.Credentials = credentials.NewMemoryStore()
	}
	c, err := remote.New(opts)
	if err != nil {
		t.Fatalf("testkit: registry client: %v", err)
	}
	return c
}

// Site is a reference opened as wasmgate opens it: through an
// [access.Opener] whose client is the one the CLI would build.
type Site struct {
	Ref    artifact.Reference
	Opener *access.Opener
	// Target is Opener.Destination(Ref): the repository (or layout) to read
	// from and write to.
	Target oras.Target
	// Discover are the discovery options wasmgate uses there: the zero
	// options (auto mode) with API set to Opener.ReferrersAPI(Ref), which is
	// nil for a layout (the tag schema alone is asked).
	Discover referrers.Options
}

// Open opens ref (a reference as a user would type it: "HOST/REPO:TAG",
// "HOST/REPO@DIGEST" or "oci-layout:DIR:TAG") as wasmgate opens it, with
// the client [Client](t, reg, opts) gives. reg is the registry ref is on,
// or nil for a layout.
func Open(t testing.TB, reg *testregistry.Registry, ref string, opts remote.Options) *Site {
	t.Helper()
	r, err := artifact.ParseReference(ref)
	if err != nil {
		t.Fatalf("testkit: reference %q: %v", ref, err)
	}
	o := &access.Opener{Client: Client(t, reg, opts)}
	dst, err := o.Destination(r)
	if err != nil {
		t.Fatalf("testkit: opening %s: %v", ref, err)
	}
	return &Site{Ref: r, Opener: o, Target: dst, Discover: referrers.Options{API: o.ReferrersAPI(r)}}
}

// Push packs the module at wasmPath with policy (nil: none) and pushes it
// to dst under tag, as `wasmgate push` does, and returns the package (its
// Manifest is the descriptor to sign).
func Push(t testing.TB, dst oras.Target, wasmPath string, policy []byte, tag string) *artifact.Package {
	t.Helper()
	pkg, err := artifact.Pack(wasmPath, policy, artifact.BuildOptions{})
	if err != nil {
		t.Fatalf("testkit: packing %s: %v", wasmPath, err)
	}
	if err := access.Push(Context(t), dst, pkg, tag, access.PushOptions{}); err != nil {
		t.Fatalf("testkit: pushing %s as %s: %v", wasmPath, tag, err)
	}
	return pkg
}
