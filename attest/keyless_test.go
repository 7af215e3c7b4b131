package attest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/fakesigstore"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/sign"
)

// A keyless attestation (Fulcio certificate and an RFC 3161 timestamp,
// from in-test servers with real certificates) verifies by identity, and
// its age is measured from the verified TSA time.
func TestKeylessAttestation(t *testing.T) {
	fake := fakesigstore.New(t, fakesigstore.Options{})
	const san = "https://github.com/acme/wasm/.github/workflows/release.yml@refs/tags/v1"
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	k := &sign.Keyless{FulcioURL: fake.FulcioURL, IDToken: fake.IDToken(t, fakesigstore.Claims{Subject: san}), TimestampURLs: []string{fake.TSAURL}}
	if _, err := sign.Attest(testkit.Context(t), s.Target, subject, nil, "slsaprovenance1", testkit.ReadFile(t, writePredicate(t, "")), sign.AttestOptions{Keyless: k}); err != nil {
		t.Fatal(err)
	}
	auth := cosign.Authority{Identities: []cosign.Identity{{Issuer: fake.Issuer, SAN: san}}, Roots: []cosign.TrustedRoot{{Material: fake.TrustedRoot(t), IgnoreTlogUnsafe: true, TimestampThreshold: 1, IgnoreSCTUnsafe: true}}}
	req := attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, Conditions: conditions(t, passing...), MaxAge: time.Hour}
	rep := s.check(t, subject, auth, req)
	if !rep.Verified || len(rep.Results) != 1 {
		t.Fatalf("%+v", rep)
	}
	r := rep.Results[0]
	if r.Identity == nil || r.Identity.SAN != san || r.TimeSource != "TimestampAuthority" || time.Since(r.Time) > time.Minute {
		t.Fatalf("identity and time: %+v", r)
	}
	other := cosign.Authority{Identities: []cosign.Identity{{Issuer: fake.Issuer, SAN: "https://github.com/evil/"}}, Roots: []cosign.TrustedRoot{{Material: fake.TrustedRoot(t), IgnoreTlogUnsafe: true, TimestampThreshold: 1, IgnoreSCTUnsafe: true}}}
	if rep := s.check(t, subject, other, req); rep.Verified || !errors.Is(rep.Err, cosign.ErrIdentityMismatch) {
		t.Fatalf("another identity: %+v", rep)
	}
}
