package cosign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"

	"github.com/wasmgate/wasmgate/evidence/cosign"
)

// Keyless signatures, made by sigstore-go's in-process Sigstore (a real
// Fulcio CA, Rekor log and TSA in memory: none can run here otherwise).
func TestVerifyKeyless(t *testing.T) {
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	const (
		san    = "https://github.com/acme/wasm/.github/workflows/release.yml@refs/tags/v1"
		issuer = "https://token.actions.githubusercontent.com"
	)
	subject := digest.FromString("a wasm manifest")
	good, err := vs.Attest(san, issuer, statement(subject))
	if err != nil {
		t.Fatal(err)
	}
	// Logged 20 minutes from now: inside the log key's validity, after the
	// 10-minute certificate expired.
	late, err := vs.AttestAtTime(san, issuer, statement(subject), time.Now().Add(20*time.Minute), false)
	if err != nil {
		t.Fatal(err)
	}
	other, err := vs.Attest(san, issuer, statement(digest.FromString("another manifest")))
	if err != nil {
		t.Fatal(err)
	}
	id := cosign.Identity{Issuer: issuer, SAN: san}
	cases := []struct {
		name   string
		entity interface{}
		auth   cosign.Authority
		want   error
	}{
		{"right identity", good, cosign.Authority{Identities: []cosign.Identity{id}, Roots: []cosign.TrustedRoot{{Material: vs, TlogThreshold: 1, IgnoreSCTUnsafe: true}}}, nil},
		{"regexps that match", good, cosign.Authority{Identities: []cosign.Identity{{IssuerRegexp: `^https://token\.actions\.`, SANRegexp: `^https://github\.com/acme/`}}, Roots: []cosign.TrustedRoot{{Material: vs, IgnoreSCTUnsafe: true}}}, nil},
		{"one of several identities", good, cosign.Authority{Identities: []cosign.Identity{{Issuer: issuer, SAN: "someone@else"}, id}, Roots: []cosign.TrustedRoot{{Material: vs, IgnoreSCTUnsafe: true}}}, nil},
		{"wrong SAN", good, cosign.Authority{Identities: []cosign.Identity{{Issuer: issuer, SAN: "https://github.com/evil/"}}, Roots: []cosign.TrustedRoot{{Material: vs, IgnoreSCTUnsafe: true}}}, cosign.ErrIdentityMismatch},
		{"wrong issuer", good, cosign.Authority{Identities: []cosign.Identity{{Issuer: "https://accounts.google.com", SAN: san}}, Roots: []cosign.TrustedRoot{{Material: vs, IgnoreSCTUnsafe: true}}}, cosign.ErrIdentityMismatch},
		{"regexp that does not match", good, cosign.Authority{Identities: []cosign.Identity{{Issuer: issuer, SANRegexp: `^https://github\.com/other/`}}, Roots: []cosign.TrustedRoot{{Material: vs, IgnoreSCTUnsafe: true}}}, cosign.ErrIdentityMismatch},
		{"certificate outside its validity at log time", late, cosign.Authority{Identities: []cosign.Identity{id}, Roots: []cosign.TrustedRoot{{Material: vs, IgnoreSCTUnsafe: true}}}, cosign.ErrCertificateInvalid},
		{"missing tlog entry when two are required", good, cosign.Authority{Identities: []cosign.Identity{id}, Roots: []cosign.TrustedRoot{{Material: vs, TlogThreshold: 2, IgnoreSCTUnsafe: true}}}, cosign.ErrMissingTlog},
		{"one signed timestamp when one is required", good, cosign.Authority{Identities: []cosign.Identity{id}, Roots: []cosign.TrustedRoot{{Material: vs, TimestampThreshold: 1, IgnoreSCTUnsafe: true}}}, nil},
		{"missing signed timestamp when two are required", good, cosign.Authority{Identities: []cosign.Identity{id}, Roots: []cosign.TrustedRoot{{Material: vs, TimestampThreshold: 2, IgnoreSCTUnsafe: true}}}, cosign.ErrMissingTimestamp},
		{"signature over another artifact", other, cosign.Authority{Identities: []cosign.Identity{id}, Roots: []cosign.TrustedRoot{{Material: vs, IgnoreSCTUnsafe: true}}}, cosign.ErrSubjectMismatch},
		{"keyless signature, key-only authority", good, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(otherKey(t))}}, cosign.ErrKindMismatch},
		{"identities without a trusted root", good, cosign.Authority{Identities: []cosign.Identity{id}}, cosign.ErrNoTrustedRoot},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := cosign.VerifyEntity(tc.entity.(*ca.TestEntity), subject, tc.auth)
			if tc.want == nil {
				if !r.Verified || r.Identity == nil || r.Identity.SAN != san || r.Identity.Issuer != issuer || len(r.LogEntries) != 1 || len(r.Timestamps) == 0 {
					t.Fatalf("want verified with identity, log entry and time: %+v (%v)", r, r.Err)
				}
				return
			}
			if r.Verified || !errors.Is(r.Err, tc.want) {
				t.Fatalf("verified=%v err=%v, want %v", r.Verified, r.Err, tc.want)
			}
		})
	}
}

func otherKey(t testing.TB) crypto.PublicKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k.Public()
}
