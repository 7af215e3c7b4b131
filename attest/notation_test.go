package attest_test

import (
	"crypto/x509"
	"errors"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/sign"
)

// An in-toto statement attached by oras and then signed with Notation on
// the referrer itself (notation sign on the referrer's digest) is trusted
// through the Notation trust, and only through a trusted one.
func TestInTotoReferrerSignedByNotation(t *testing.T) {
	root := testpki.NewRoot(t, "wasmgate test root (TEST ONLY)", testpki.P256)
	leaf := root.Issue(t, testpki.LeafOptions{CommonName: "attestation signer"})
	trustFor := func(roots ...*x509.Certificate) *notation.Trust {
		d := t.TempDir()
		tr, err := notation.LoadTrust(testpki.WriteNotationTrust(t, d, "acme", roots, ""), d)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	ref := attachStatement(t, s, subject, subject.Digest, evidence.PredicateTypeSLSAv1, testkit.ReadFile(t, writePredicate(t, "")))
	if _, err := sign.Notation(testkit.Context(t), s.Target, ref, leaf.NotationSigner(t), sign.NotationOptions{Envelope: sign.EnvelopeCOSE}); err != nil {
		t.Fatal(err)
	}
	req := attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, Conditions: conditions(t, passing...)}
	// The cosign authority trusts an unrelated key: only Notation can vouch.
	auth := keyAuth(ecKey(t))
	check := func(nt *attest.NotationTrust) *attest.Report {
		t.Helper()
		rep, err := attest.Check(testkit.Context(t), s.Target, subject, s.Discover, auth, req, attest.Options{Notation: nt})
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	scope := reg.Ref("wasm/tiny", "")

	rep := check(&attest.NotationTrust{Trust: trustFor(root.Root()), Scope: scope})
	r := resultOf(t, rep, ref.Digest)
	if !rep.Verified || !r.Verified || !strings.Contains(r.NotationSigner, "attestation signer") || r.Format != attest.FormatInTotoSigned {
		t.Fatalf("trusted Notation signature: %+v", rep)
	}
	if rep := check(nil); rep.Verified || !errors.Is(resultOf(t, rep, ref.Digest).Err, attest.ErrSignature) {
		t.Fatalf("without Notation trust: %+v", rep)
	}
	other := testpki.NewRoot(t, "someone else (TEST ONLY)", testpki.P256)
	if rep := check(&attest.NotationTrust{Trust: trustFor(other.Root()), Scope: scope}); rep.Verified || !errors.Is(resultOf(t, rep, ref.Digest).Err, attest.ErrSignature) {
		t.Fatalf("untrusted Notation root: %+v", rep)
	}
}
