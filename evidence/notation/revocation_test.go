package notation_test

import (
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/ocilayout"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/internal/testrig/testrevocation"
	"github.com/wasmgate/wasmgate/referrers"
)

// Revocation through notation-core-go's OCSP and CRL clients against a
// real responder: revoked fails strict and is logged by permissive; an
// unreachable responder cannot hold the verdict past RevocationTimeout.
func TestRevocation(t *testing.T) {
	root := testpki.NewRoot(t, "wasmgate test root (TEST ONLY)", testpki.P256)
	inter := root.NewIntermediate(t, "wasmgate test intermediate (TEST ONLY)", testpki.P256)
	rev := testrevocation.New(t, inter.Cert, inter.Key)
	leaf := inter.Issue(t, testpki.LeafOptions{OCSPServer: []string{rev.OCSPURL()}, CRLDistributionPoints: []string{rev.CRLURL()}})
	reg := testregistry.Distribution(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	s.sign(t, leaf, subject, peers.NotationCOSE)
	strict := trustRoots(t, "", root.Cert)
	permissive := trustRoots(t, policy(t, testpki.Policy{Level: "permissive"}), root.Cert)
	audit := trustRoots(t, policy(t, testpki.Policy{Level: "audit"}), root.Cert)

	if r := s.one(t, subject, strict); !r.Verified || check(r, notation.CheckRevocation).Status != notation.StatusPassed {
		t.Fatalf("good: %+v", r)
	}
	if rev.OCSP.Requests() == 0 {
		t.Error("the OCSP responder was not asked")
	}

	rev.SetHang(true)
	start := time.Now()
	rep, err := notation.Check(testkit.Context(t), s.Target, s.scope, subject, s.Discover, strict, notation.Options{RevocationTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a hung responder held the verdict for %v", took)
	}
	wantErr(t, rep.Results[0], notation.ErrRevocationUnknown)
	rev.SetHang(false)

	rev.Revoke(leaf.Cert.SerialNumber, time.Now().Add(-time.Minute))
	wantErr(t, s.one(t, subject, strict), notation.ErrRevoked)
	r := s.one(t, subject, permissive)
	if !r.Verified || len(r.Logged()) != 1 || !errors.Is(r.Logged()[0].Err, notation.ErrRevoked) {
		t.Fatalf("permissive, revoked: %+v", r)
	}
	r = s.one(t, subject, audit)
	if !r.Verified || r.Level != "audit" || len(r.Logged()) != 1 || !errors.Is(r.Logged()[0].Err, notation.ErrRevoked) {
		t.Fatalf("audit, revoked: logged, not enforced: %+v", r)
	}
	skipRevocation := trustRoots(t, policy(t, testpki.Policy{Override: map[string]string{"revocation": "skip"}}), root.Cert)
	r = s.one(t, subject, skipRevocation)
	if !r.Verified || r.Level != "custom" || check(r, notation.CheckRevocation).Status != notation.StatusSkipped {
		t.Fatalf("revocation skipped: %+v", r)
	}
}

// Signatures copied into an OCI layout (referrers.Copy) verify there under
// a local scope, as notation verify --oci-layout --scope does.
func TestVerifyInOCILayout(t *testing.T) {
	p := newPKI(t, testpki.P384)
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	s.sign(t, p.leaf, subject, peers.NotationJWS)
	s.sign(t, p.leaf, subject, peers.NotationCOSE)

	store, err := ocilayout.Open(filepath.Join(t.TempDir(), "layout"), ocilayout.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := referrers.Copy(testkit.Context(t), s.Target, subject.Digest.String(), store, "v1", referrers.CopyOptions{Recursive: true, Discover: s.Discover}); err != nil {
		t.Fatal(err)
	}
	trust := trustRoots(t, policy(t, testpki.Policy{Scopes: []string{"local/tiny"}}), p.root.Cert)
	rep, err := notation.Check(testkit.Context(t), store, "local/tiny", subject, referrers.Options{}, trust, notation.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Verified || len(rep.Results) != 2 || !rep.Results[0].Verified || !rep.Results[1].Verified {
		t.Fatalf("layout: %+v", rep.Results)
	}
}
