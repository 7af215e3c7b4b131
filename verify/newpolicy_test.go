package verify_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/verify"
)

// TestUnsignedProbe: a policy that requires nothing used to be a silent
// pass — &verify.Policy{Statements: ...{Scopes: ["*"], Mode: enforce}}
// verified an unsigned artifact, and loader ran it. Now nothing but the
// constructors builds a Policy, they refuse a statement that requires no
// evidence, and the explicit opt-out is reported as insecure in every
// result.
func TestUnsignedProbe(t *testing.T) {
	f := newFixture(t, atLayout) // the artifact is pushed, not signed
	ref := mustRef(t, f.ref)

	if _, err := verify.New(&verify.Policy{}, f.opener, verify.Options{}); !errors.Is(err, verify.ErrPolicyInvalid) {
		t.Fatalf("the zero Policy: %v", err)
	}
	if _, err := verify.New(nil, f.opener, verify.Options{}); !errors.Is(err, verify.ErrPolicyInvalid) {
		t.Fatalf("a nil Policy: %v", err)
	}

	_, err := verify.NewPolicy(verify.Statement{Name: "all", Scopes: []string{"*"}, Mode: verify.ModeEnforce})
	var pe *verify.PolicyError
	if !errors.As(err, &pe) || !errors.Is(err, verify.ErrPolicyInvalid) || pe.Field != "policies[0].signatures" {
		t.Fatalf("a statement that requires nothing: %v", err)
	}

	p, err := verify.NewPolicy(verify.Statement{Name: "all", Scopes: []string{"*"}, AllowUnsignedUnsafe: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := mustVerifier(t, p, f.opener, verify.Options{}).Verify(testkit.Context(t), ref)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != verify.VerdictVerified || len(res.Insecure) != 1 || !strings.Contains(res.Insecure[0], "allowUnsigned") {
		t.Fatalf("allowUnsigned: verdict %s, insecure %q", res.Verdict, res.Insecure)
	}
	summary, err := verify.SummaryOf(res, p, "test", "", time.Now())
	if err != nil || len(summary.Insecure) != 1 {
		t.Fatalf("VSA summary: %v %q", err, summary.Insecure)
	}
	vsa, err := verify.VSA(summary)
	if err != nil || !strings.Contains(string(vsa), "allowUnsigned") {
		t.Fatalf("the VSA does not say it: %v %s", err, vsa)
	}
}

// A policy is immutable once built: changing what NewPolicy was given, or
// what Statements returned, changes nothing it decides.
func TestPolicyImmutable(t *testing.T) {
	f := newFixture(t, atLayout)
	ref := mustRef(t, f.ref)
	auth := &cosign.Authority{Keys: []cosign.Key{cosign.NewKey(f.keys["release"].Public())}}
	st := verify.Statement{Name: "signed", Scopes: []string{"*"}, Threshold: 1,
		Authorities: []*verify.Authority{{Name: "release", Kind: verify.KindCosignKey, Cosign: auth}}}
	p, err := verify.NewPolicy(st)
	if err != nil {
		t.Fatal(err)
	}
	// The caller's copy loses its evidence; the policy does not.
	st.Threshold, st.Authorities[0].Cosign.Keys = 0, nil
	st.AllowUnsignedUnsafe = true
	got := p.Statements()
	got[0].Authorities = nil
	got[0].Scopes[0] = "nothing/here"
	res, err := mustVerifier(t, p, f.opener, verify.Options{}).Verify(testkit.Context(t), ref)
	if err != nil || res.Verdict != verify.VerdictDenied {
		t.Fatalf("an unsigned artifact under a policy that requires a signature: %v %s", err, res.Verdict)
	}
	if s := p.Statements()[0]; s.Scopes[0] != "*" || len(s.Authorities) != 1 || len(s.Authorities[0].Cosign.Keys) != 1 {
		t.Fatalf("the policy changed: %+v", s)
	}
}

// NewPolicy checks what the file format guarantees, with the field named.
func TestNewPolicyRejects(t *testing.T) {
	key := &verify.Authority{Name: "k", Kind: verify.KindCosignKey, Cosign: &cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testKey(t))}}}
	signed := func(mod func(*verify.Statement)) verify.Statement {
		s := verify.Statement{Name: "s", Scopes: []string{"r.test/app"}, Threshold: 1, Authorities: []*verify.Authority{key}}
		mod(&s)
		return s
	}
	for _, tc := range []struct {
		name  string
		st    []verify.Statement
		field string
	}{
		{"no statements", nil, "policies"},
		{"no name", []verify.Statement{signed(func(s *verify.Statement) { s.Name = "" })}, "policies[0].name"},
		{"no scopes", []verify.Statement{signed(func(s *verify.Statement) { s.Scopes = nil })}, "policies[0].scopes"},
		{"a bad scope", []verify.Statement{signed(func(s *verify.Statement) { s.Scopes = []string{"r.test/*/x"} })}, "policies[0].scopes[0]"},
		{"a bad mode", []verify.Statement{signed(func(s *verify.Statement) { s.Mode = "lenient" })}, "policies[0].mode"},
		{"threshold above the authorities", []verify.Statement{signed(func(s *verify.Statement) { s.Threshold = 2 })}, "policies[0].signatures.threshold"},
		{"an authority with nothing to check", []verify.Statement{signed(func(s *verify.Statement) {
			s.Authorities = []*verify.Authority{{Name: "k", Kind: verify.KindCosignKey, Cosign: &cosign.Authority{}}}
		})}, "policies[0].signatures.authorities[0].cosign"},
		{"a keyless authority without a root", []verify.Statement{signed(func(s *verify.Statement) {
			s.Authorities = []*verify.Authority{{Name: "k", Kind: verify.KindCosignKeyless, Cosign: &cosign.Authority{Identities: []cosign.Identity{{Issuer: "i", SAN: "s"}}}}}
		})}, "policies[0].signatures.authorities[0].cosign"},
		{"signedBy names no authority", []verify.Statement{signed(func(s *verify.Statement) {
			s.Attestations = []*verify.AttestationRule{{PredicateType: "https://slsa.dev/provenance/v1", SignedBy: []string{"ci"}}}
		})}, "policies[0].attestations[0].signedBy"},
		{"the same scope twice", []verify.Statement{signed(func(*verify.Statement) {}), signed(func(s *verify.Statement) { s.Name = "t" })}, "policies[1].scopes[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := verify.NewPolicy(tc.st...)
			var pe *verify.PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, verify.ErrPolicyInvalid) || pe.Field != tc.field {
				t.Fatalf("want a PolicyError at %s, got %v", tc.field, err)
			}
		})
	}
	// Zero fields take the file format's defaults.
	p, err := verify.NewPolicy(signed(func(s *verify.Statement) {
		s.Attestations = []*verify.AttestationRule{{PredicateType: "https://slsa.dev/provenance/v1"}}
	}))
	if err != nil {
		t.Fatal(err)
	}
	s := p.Statements()[0]
	if s.Mode != verify.ModeEnforce || s.Layers.MaxBytes != verify.DefaultMaxLayerBytes || s.Attestations[0].MinCount != 1 || len(s.Attestations[0].SignedBy) != 1 {
		t.Fatalf("defaults: %+v %+v", s, s.Attestations[0])
	}
}

func testKey(t *testing.T) crypto.PublicKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}
