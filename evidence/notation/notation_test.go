package notation_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// notation-go signs in both envelopes on both registries (distribution: the
// tag fallback; ggcr: the Referrers API); wasmgate verifies each.
func TestVerifyBothEnvelopesOnBothRegistries(t *testing.T) {
	p := newPKI(t, testpki.P256)
	trust := trustRoots(t, "", p.root.Cert)
	for _, kind := range testregistry.Kinds() {
		for _, env := range []string{peers.NotationJWS, peers.NotationCOSE} {
			t.Run(string(kind)+"/"+env, func(t *testing.T) {
				t.Parallel()
				reg := testregistry.New(t, kind)
				subject := peers.PushSubject(t, reg, "wasm/tiny")
				s := open(t, reg, "wasm/tiny")
				sig := s.sign(t, p.leaf, subject, env)

				r := s.one(t, subject, trust)
				if !r.Verified || r.Err != nil || r.Reason != "" {
					t.Fatalf("not verified: %+v", r)
				}
				if r.Referrer != sig.Digest || r.Envelope != env || r.Level != "strict" || r.Policy != "wasmgate-test" {
					t.Errorf("result: %+v", r)
				}
				if r.Signer != p.leaf.Cert.Subject.String() || len(r.Chain) != 3 || r.Chain[2] != p.root.Cert.Subject.String() {
					t.Errorf("signer %q chain %q", r.Signer, r.Chain)
				}
				if r.SigningTime.IsZero() || r.SigningScheme != "notary.x509" {
					t.Errorf("signing time %v scheme %q", r.SigningTime, r.SigningScheme)
				}
				want := map[string]string{"integrity": "passed", "authenticity": "passed", "expiry": "passed", "authenticTimestamp": "passed", "revocation": "passed"}
				for _, c := range r.Checks {
					if want[c.Name] != c.Status || c.Action != notation.ActionEnforce {
						t.Errorf("check %+v", c)
					}
					delete(want, c.Name)
				}
				if len(want) != 0 {
					t.Errorf("checks missing: %v", want)
				}
			})
		}
	}
}

// RSA 3072, P-256 and P-384 signing keys, each under an intermediate.
func TestVerifyKeyTypes(t *testing.T) {
	for _, kt := range testpki.KeyTypes() {
		t.Run(string(kt), func(t *testing.T) {
			t.Parallel()
			p := newPKI(t, kt)
			reg := testregistry.GGCR(t)
			subject := peers.PushSubject(t, reg, "wasm/tiny")
			s := open(t, reg, "wasm/tiny")
			s.sign(t, p.leaf, subject, peers.NotationCOSE)
			s.sign(t, p.leaf, subject, peers.NotationJWS)
			rep := s.check(t, subject, trustRoots(t, "", p.root.Cert), notation.Options{})
			if len(rep.Results) != 2 || !rep.Results[0].Verified || !rep.Results[1].Verified {
				t.Fatalf("results: %+v", rep.Results)
			}
		})
	}
}

// Each way a signature can be wrong fails with its own reason.
func TestVerifyFailures(t *testing.T) {
	p := newPKI(t, testpki.P256)
	trust := trustRoots(t, "", p.root.Cert)
	setup := func(t *testing.T) (*site, ocispec.Descriptor) {
		reg := testregistry.Distribution(t)
		return open(t, reg, "wasm/tiny"), peers.PushSubject(t, reg, "wasm/tiny")
	}

	t.Run("untrusted root", func(t *testing.T) {
		t.Parallel()
		s, subject := setup(t)
		s.sign(t, p.leaf, subject, peers.NotationJWS)
		other := testpki.NewRoot(t, "another root", testpki.P256)
		r := s.one(t, subject, trustRoots(t, "", other.Cert))
		wantErr(t, r, notation.ErrAuthenticity)
		if r.Signer == "" {
			t.Error("the signer is not reported")
		}
	})
	t.Run("identity not trusted", func(t *testing.T) {
		t.Parallel()
		s, subject := setup(t)
		s.sign(t, p.leaf, subject, peers.NotationCOSE)
		tr := trustRoots(t, policy(t, testpki.Policy{TrustedIdentities: []string{"x509.subject: CN=someone else,O=wasmgate,ST=WA,C=US"}}), p.root.Cert)
		wantErr(t, s.one(t, subject, tr), notation.ErrUntrustedIdentity)
		// The leaf's own subject is trusted.
		tr = trustRoots(t, policy(t, testpki.Policy{TrustedIdentities: []string{"x509.subject: " + p.leaf.Cert.Subject.String()}}), p.root.Cert)
		if r := s.one(t, subject, tr); !r.Verified {
			t.Fatalf("own identity: %+v", r)
		}
	})
	t.Run("expired leaf without timestamp", func(t *testing.T) {
		t.Parallel()
		s, subject := setup(t)
		// notation-go will not sign with an expired certificate: sign with
		// one that expires two seconds from now, then wait.
		notAfter := time.Now().Truncate(time.Second).Add(2 * time.Second)
		leaf := p.inter.Issue(t, testpki.LeafOptions{CommonName: "short-lived signer", NotAfter: notAfter})
		s.sign(t, leaf, subject, peers.NotationJWS)
		time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))
		r := s.one(t, subject, trust)
		wantErr(t, r, notation.ErrExpired)
		if c := check(r, notation.CheckAuthenticTimestamp); c.Status != notation.StatusFailed || !errors.Is(c.Err, notation.ErrExpired) {
			t.Errorf("authenticTimestamp: %+v", c)
		}
		if c := check(r, notation.CheckRevocation); c.Status != notation.StatusNotReached {
			t.Errorf("revocation after an enforced failure: %+v", c)
		}
	})
	for _, env := range []string{peers.NotationJWS, peers.NotationCOSE} {
		t.Run("tampered "+env+" envelope", func(t *testing.T) {
			t.Parallel()
			s, subject := setup(t)
			s.sign(t, p.leaf, subject, env)
			desc, raw := envelopeOf(t, s, subject)
			raw = tamper(t, env, raw)
			// A new referrer whose layer is the altered envelope: the bytes
			// match the manifest; the signature does not match the bytes.
			s2, subject2 := setup(t)
			attachEnvelope(t, s2, subject2, desc.MediaType, raw)
			wantErr(t, s2.one(t, subject2, trust), notation.ErrIntegrity)
		})
	}
	t.Run("envelope for another digest", func(t *testing.T) {
		t.Parallel()
		s, subject := setup(t)
		other := pushOther(t, s)
		s.sign(t, p.leaf, other, peers.NotationCOSE)
		desc, raw := envelopeOf(t, s, other)
		attachEnvelope(t, s, subject, desc.MediaType, raw)
		r := s.one(t, subject, trust)
		wantErr(t, r, notation.ErrSubjectMismatch)
		for _, c := range r.Checks {
			if c.Status == notation.StatusFailed {
				t.Errorf("check %s failed: the signature itself is valid", c.Name)
			}
		}
	})
	t.Run("TLS server certificate used for signing", func(t *testing.T) {
		t.Parallel()
		s, subject := setup(t)
		s.sign(t, p.leaf, subject, peers.NotationJWS)
		desc, raw := envelopeOf(t, s, subject)
		tls := p.inter.TLSServer(t, "registry.example", testpki.P256)
		s2, subject2 := setup(t)
		attachEnvelope(t, s2, subject2, desc.MediaType, resignJWS(t, raw, tls))
		wantErr(t, s2.one(t, subject2, trust), notation.ErrInvalidSignature)
	})
	t.Run("user metadata required", func(t *testing.T) {
		t.Parallel()
		s, subject := setup(t)
		s.sign(t, p.leaf, subject, peers.NotationJWS)
		rep := s.check(t, subject, trust, notation.Options{UserMetadata: map[string]string{"buildId": "42"}})
		wantErr(t, rep.Results[0], notation.ErrUserMetadata)
	})
	t.Run("too many signatures", func(t *testing.T) {
		t.Parallel()
		s, subject := setup(t)
		s.sign(t, p.leaf, subject, peers.NotationJWS)
		s.sign(t, p.leaf, subject, peers.NotationCOSE)
		rep := s.check(t, subject, trust, notation.Options{MaxSignatures: 1})
		if len(rep.Results) != 2 || !errors.Is(rep.Results[1].Err, notation.ErrTooManySignatures) {
			t.Fatalf("results: %+v", rep.Results)
		}
	})
}

// Under audit, authenticity is logged: a signature from an untrusted root
// still verifies, as notation-go defines audit, and the result says what
// failed. Integrity stays enforced.
func TestAuditLogsFailures(t *testing.T) {
	p := newPKI(t, testpki.P256)
	other := testpki.NewRoot(t, "another root", testpki.P256)
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	s.sign(t, p.leaf, subject, peers.NotationJWS)

	audit := trustRoots(t, policy(t, testpki.Policy{Level: "audit"}), other.Cert)
	r := s.one(t, subject, audit)
	if !r.Verified || r.Err != nil || r.Level != "audit" {
		t.Fatalf("audit: %+v", r)
	}
	logged := r.Logged()
	if len(logged) != 1 || logged[0].Name != notation.CheckAuthenticity || logged[0].Action != notation.ActionLog || !errors.Is(logged[0].Err, notation.ErrAuthenticity) {
		t.Fatalf("logged: %+v", logged)
	}
	if r.Reason == "" {
		t.Error("a verified-with-warnings result without a reason")
	}

	// permissive enforces authenticity.
	permissive := trustRoots(t, policy(t, testpki.Policy{Level: "permissive"}), other.Cert)
	wantErr(t, s.one(t, subject, permissive), notation.ErrAuthenticity)

	// skip checks nothing, and says so.
	skip := trustRoots(t, policy(t, testpki.Policy{Level: "skip", TrustStores: []string{}, TrustedIdentities: []string{}}))
	rep := s.check(t, subject, skip, notation.Options{})
	if !rep.Verified || len(rep.Results) != 1 || rep.Results[0].Level != "skip" || rep.Results[0].Referrer != "" {
		t.Fatalf("skip: %+v", rep.Results)
	}
}

// The trust policy selects by scope; a scope nothing covers is a
// configuration error.
func TestScopes(t *testing.T) {
	p := newPKI(t, testpki.P256)
	reg := testregistry.Distribution(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	s.sign(t, p.leaf, subject, peers.NotationJWS)

	exact := trustRoots(t, policy(t, testpki.Policy{Scopes: []string{s.scope}}), p.root.Cert)
	if r := s.one(t, subject, exact); !r.Verified {
		t.Fatalf("exact scope: %+v", r)
	}
	elsewhere := trustRoots(t, policy(t, testpki.Policy{Scopes: []string{"registry.example/other"}}), p.root.Cert)
	if _, err := notation.Check(testkit.Context(t), s.Target, s.scope, subject, s.Discover, elsewhere, notation.Options{}); !errors.Is(err, notation.ErrNoTrustPolicy) {
		t.Fatalf("no applicable policy: %v", err)
	}
	// Regression: the error named a made-up scope@sha256:0000… reference.
	_, err := notation.VerifyReferrers(testkit.Context(t), s.Target, s.scope, subject, nil, elsewhere, notation.Options{})
	var npe *notation.NoTrustPolicyError
	if !errors.As(err, &npe) || npe.Scope != s.scope || npe.Reference != s.scope+"@"+subject.Digest.String() ||
		!strings.Contains(err.Error(), npe.Reference) || strings.Contains(err.Error(), strings.Repeat("0", 64)) ||
		!strings.Contains(err.Error(), "registryScopes") {
		t.Errorf("no applicable policy names %v", err)
	}
	for _, bad := range []string{"", "no-slash", "Registry.example/UPPER", "host/repo@sha256:00"} {
		if _, err := notation.Check(testkit.Context(t), s.Target, bad, subject, s.Discover, exact, notation.Options{}); !errors.Is(err, notation.ErrInvalidScope) {
			t.Errorf("scope %q: %v", bad, err)
		}
	}
}

func TestLoadTrust(t *testing.T) {
	root := testpki.NewRoot(t, "root", testpki.P256)
	t.Run("config dir or truststore dir", func(t *testing.T) {
		d := t.TempDir()
		path := testpki.WriteNotationTrust(t, d, "wasmgate-test", []*x509.Certificate{root.Cert}, "")
		for _, store := range []string{d, filepath.Join(d, "truststore")} {
			if _, err := notation.LoadTrust(path, store); err != nil {
				t.Errorf("%s: %v", store, err)
			}
		}
		if _, err := notation.LoadTrust(path, t.TempDir()); !errors.Is(err, notation.ErrInvalidTrustStore) {
			t.Errorf("empty dir: %v", err)
		}
		if _, err := notation.LoadTrust(path, ""); err == nil {
			t.Error("no store dir accepted")
		}
	})
	t.Run("symlinked certificate", func(t *testing.T) {
		d := t.TempDir()
		path := testpki.WriteNotationTrust(t, d, "wasmgate-test", nil, "")
		outside := filepath.Join(t.TempDir(), "root.pem")
		testpki.WritePEM(t, outside, root.Cert)
		store := filepath.Join(d, "truststore", "x509", "ca", "wasmgate-test")
		if err := os.MkdirAll(store, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(store, "root.pem")); err != nil {
			t.Fatal(err)
		}
		if _, err := notation.LoadTrust(path, d); !errors.Is(err, notation.ErrInvalidTrustStore) {
			t.Fatalf("symlink: %v", err)
		}
	})
	t.Run("missing store", func(t *testing.T) {
		d := t.TempDir()
		path := testpki.WriteNotationTrust(t, d, "wasmgate-test", []*x509.Certificate{root.Cert},
			policy(t, testpki.Policy{TrustStores: []string{"ca:absent"}}))
		if _, err := notation.LoadTrust(path, d); !errors.Is(err, notation.ErrInvalidTrustStore) {
			t.Fatalf("missing store: %v", err)
		}
	})
	for name, pol := range map[string]string{
		"invalid scope":     policy(t, testpki.Policy{Scopes: []string{"not a scope"}}),
		"wildcard in scope": policy(t, testpki.Policy{Scopes: []string{"registry.example/*"}}),
		"unknown level":     policy(t, testpki.Policy{Level: "lenient"}),
		"bad identity":      policy(t, testpki.Policy{TrustedIdentities: []string{"x509.subject:"}}),
		"skip integrity":    policy(t, testpki.Policy{Override: map[string]string{"integrity": "skip"}}),
		"not json":          "{",
		"version":           `{"version":"2.0","trustPolicies":[]}`,
	} {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			path := testpki.WriteNotationTrust(t, d, "wasmgate-test", []*x509.Certificate{root.Cert}, pol)
			if _, err := notation.LoadTrust(path, d); !errors.Is(err, notation.ErrInvalidTrustPolicy) {
				t.Fatalf("want ErrInvalidTrustPolicy, got %v", err)
			}
		})
	}
}

func check(r notation.Result, name string) notation.CheckResult {
	i := slices.IndexFunc(r.Checks, func(c notation.CheckResult) bool { return c.Name == name })
	if i < 0 {
		return notation.CheckResult{}
	}
	return r.Checks[i]
}

// tamper flips one bit of the signature value: the envelope still parses.
func tamper(t testing.TB, env string, raw []byte) []byte {
	t.Helper()
	out := slices.Clone(raw)
	switch env {
	case peers.NotationCOSE:
		// COSE_Sign1 ends with the signature byte string.
		out[len(out)-1] ^= 0x01
	default:
		// A character in the middle of the base64url "signature" value
		// (the last one can hold only padding bits).
		i := bytes.Index(out, []byte(`"signature":"`))
		if i < 0 {
			t.Fatal("no signature in the JWS")
		}
		i += len(`"signature":"`) + 10
		if out[i] == 'A' {
			out[i] = 'B'
		} else {
			out[i] = 'A'
		}
	}
	return out
}

func pushOther(t testing.TB, s *site) ocispec.Descriptor {
	t.Helper()
	return testkit.Push(t, s.Target, filepath.Join("..", "..", "testdata", "wasm", "component.wasm"), nil, "other").Manifest
}
