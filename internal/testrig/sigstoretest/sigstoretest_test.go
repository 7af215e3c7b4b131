package sigstoretest_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	ctx509util "github.com/google/certificate-transparency-go/x509util"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	st "github.com/wasmgate/wasmgate/internal/testrig/sigstoretest"
)

var artifact = []byte("\x00asm\x01\x00\x00\x00 a module signed by sigstoretest")

// verdict is one bundle and how sigstore-go v1.3.0 must judge it.
type verdict struct {
	name   string
	s      *st.Sigstore // nil: the test's deployment
	sig    st.Sig
	attest bool // sign an in-toto statement about artifact instead of artifact
	// root changes the trusted root (it may depend on the bundle).
	root func(r *st.Signed) []st.RootOption
	// verifier is the verifier's options; nil is the strict keyless
	// configuration: one SCT, one tlog entry, one observer timestamp.
	verifier []verify.VerifierOption
	// policy is the policy's options besides the artifact; nil requires the
	// certificate's exact identity (or WithKey for key-signed bundles).
	policy func(t *testing.T, r *st.Signed) []verify.PolicyOption
	// want is "" for acceptance, else a part of the refusal's message.
	want string
}

func strict() []verify.VerifierOption {
	return []verify.VerifierOption{verify.WithSignedCertificateTimestamps(1), verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
}

func withoutSCTs() []verify.VerifierOption {
	return []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1)}
}

// check signs as v says and verifies with sigstore-go.
func check(t *testing.T, s *st.Sigstore, v verdict) {
	t.Helper()
	if v.s != nil {
		s = v.s
	}
	var r *st.Signed
	if v.attest {
		r = s.Attest(t, st.Statement{Subjects: []st.Subject{st.SubjectOf("module.wasm", artifact)}}, v.sig)
	} else {
		r = s.Sign(t, artifact, v.sig)
	}
	var ropts []st.RootOption
	if v.root != nil {
		ropts = v.root(r)
	}
	var tm root.TrustedMaterial = s.TrustedRoot(t, ropts...)
	vopts := v.verifier
	if vopts == nil {
		vopts = strict()
	}
	popts := []verify.PolicyOption{}
	switch {
	case v.policy != nil:
		popts = v.policy(t, r)
	case v.sig.PublicKey:
		popts = append(popts, verify.WithKey())
	default:
		popts = append(popts, verify.WithCertificateIdentity(r.Identity(t)))
	}
	if v.sig.PublicKey {
		tm = root.TrustedMaterialCollection{tm, r.KeyMaterial(t)}
	}
	err := r.LoadErr
	if err == nil {
		var verifier *verify.Verifier
		verifier, err = verify.NewVerifier(tm, vopts...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = verifier.Verify(r.Bundle, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), popts...))
	}
	switch {
	case v.want == "" && err != nil:
		t.Errorf("sigstore-go refused the bundle: %v", err)
	case v.want != "" && err == nil:
		t.Errorf("sigstore-go accepted the bundle, want a refusal containing %q", v.want)
	case v.want != "" && !strings.Contains(err.Error(), v.want):
		t.Errorf("sigstore-go refused the bundle with %q, want %q", err, v.want)
	}
	if t.Failed() {
		t.Logf("bundle: %s", r.JSON)
	}
}

const (
	noTime        = "threshold not met for verified signed & log entry integrated timestamps: 0 < 1"
	noSCT         = "only able to verify 0 SCT entries; unable to meet threshold of 1"
	noTlog        = "not enough verified log entries from transparency log: 0 < 1"
	legacyV2Entry = "entry body is not a recognizable Rekor v1 or Rekor v2 type"
)

func TestSigstoreGoVerdicts(t *testing.T) {
	s := st.New(t, st.Options{})
	ecdsaV2 := st.New(t, st.Options{RekorV2ECDSA: true})
	past := st.New(t, st.Options{Start: time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)})
	github := &st.GitHubWorkflow{Repository: "wasmgate/plugins", Ref: "refs/tags/v1.2.3", Event: "release"}
	githubSAN, githubExt := github.Identity()
	for _, v := range []verdict{
		// Keyless, as the public-good instance signs today and as GitHub
		// Actions does.
		{name: "keyless/rekor v1", sig: st.Sig{}},
		{name: "keyless/rekor v2 and TSA", sig: st.Sig{Tlog: st.RekorV2, TSA: true}},
		{name: "keyless/rekor v2 without TSA has no time", sig: st.Sig{Tlog: st.RekorV2}, want: noTime},
		{name: "keyless/rekor v1 and TSA", sig: st.Sig{TSA: true}},
		{name: "keyless/TSA only, no tlog", sig: st.Sig{Tlog: st.NoTlog, TSA: true},
			verifier: []verify.VerifierOption{verify.WithSignedCertificateTimestamps(1), verify.WithSignedTimestamps(1)}},
		{name: "keyless/TSA only refused when a tlog entry is required", sig: st.Sig{Tlog: st.NoTlog, TSA: true}, want: noTlog},
		{name: "keyless/rekor v2 (ECDSA log key) and TSA", s: ecdsaV2, sig: st.Sig{Tlog: st.RekorV2, TSA: true}},
		{name: "keyless/URI SAN", sig: st.Sig{SANType: st.SANURI, SAN: "spiffe://sigstoretest.example/ns/ci/sa/builder"}},
		{name: "keyless/otherName SAN", sig: st.Sig{SANType: st.SANOtherName, SAN: "builder!sigstoretest.example"}},
		{name: "keyless/otherName SAN and rekor v2", sig: st.Sig{SANType: st.SANOtherName, Tlog: st.RekorV2, TSA: true}},
		{name: "keyless/otherName SAN, other identity", sig: st.Sig{SANType: st.SANOtherName},
			policy: func(t *testing.T, r *st.Signed) []verify.PolicyOption {
				id, err := verify.NewShortCertificateIdentity(r.Issuer, "", "someone-else!sigstoretest.example", "")
				if err != nil {
					t.Fatal(err)
				}
				return []verify.PolicyOption{verify.WithCertificateIdentity(id)}
			}, want: "failed to verify certificate identity"},
		{name: "keyless/other issuer", sig: st.Sig{},
			policy: func(t *testing.T, r *st.Signed) []verify.PolicyOption {
				id, err := verify.NewShortCertificateIdentity("https://accounts.example", "", r.SAN, "")
				if err != nil {
					t.Fatal(err)
				}
				return []verify.PolicyOption{verify.WithCertificateIdentity(id)}
			}, want: "failed to verify certificate identity"},

		// GitHub Actions: the workflow extensions can be required.
		{name: "github/identity and extensions", sig: st.Sig{GitHub: github},
			policy: func(t *testing.T, r *st.Signed) []verify.PolicyOption {
				return []verify.PolicyOption{verify.WithCertificateIdentity(githubIdentity(t, githubSAN, certificate.Extensions{
					SourceRepositoryURI: githubExt.SourceRepositoryURI, SourceRepositoryRef: "refs/tags/v1.2.3",
					GithubWorkflowRepository: "wasmgate/plugins", BuildTrigger: "release",
				}))}
			}},
		{name: "github/other source repository", sig: st.Sig{GitHub: github},
			policy: func(t *testing.T, r *st.Signed) []verify.PolicyOption {
				return []verify.PolicyOption{verify.WithCertificateIdentity(githubIdentity(t, githubSAN, certificate.Extensions{
					SourceRepositoryURI: "https://github.com/wasmgate/other",
				}))}
			}, want: "failed to verify certificate identity"},
		{name: "github/rekor v2 and TSA", sig: st.Sig{GitHub: github, Tlog: st.RekorV2, TSA: true}},

		// SCTs.
		{name: "sct/unknown log, SCTs required", sig: st.Sig{SCT: st.SCTUnknownLog}, want: noSCT},
		{name: "sct/unknown log, SCTs not required", sig: st.Sig{SCT: st.SCTUnknownLog}, verifier: withoutSCTs()},
		{name: "sct/bad signature, SCTs required", sig: st.Sig{SCT: st.SCTBadSignature}, want: noSCT},
		{name: "sct/bad signature, SCTs not required", sig: st.Sig{SCT: st.SCTBadSignature}, verifier: withoutSCTs()},
		{name: "sct/none, SCTs required", sig: st.Sig{SCT: st.SCTNone}, want: noSCT},
		{name: "sct/none, SCTs not required", sig: st.Sig{SCT: st.SCTNone}, verifier: withoutSCTs()},
		{name: "sct/CT log left out of the trusted root", sig: st.Sig{},
			root: func(*st.Signed) []st.RootOption { return []st.RootOption{st.Without(st.ServiceCTLog)} }, want: noSCT},

		// Witnesses the trusted root does not know do not get in the way.
		{name: "witness/one", sig: st.Sig{Tlog: st.RekorV2, TSA: true, Witnesses: 1}},
		{name: "witness/three", sig: st.Sig{Tlog: st.RekorV2, TSA: true, Witnesses: 3}},

		// The TSA.
		{name: "tsa/certificate embedded", sig: st.Sig{Tlog: st.RekorV2, TSA: true, TSACert: true}},
		{name: "tsa/validFor.end is the timestamp's time", sig: st.Sig{Tlog: st.RekorV2, TSA: true},
			root: func(r *st.Signed) []st.RootOption {
				return []st.RootOption{st.ValidFor(st.ServiceTSA, time.Time{}, r.TimestampTime)}
			}},
		{name: "tsa/validFor.end is a second before the timestamp", sig: st.Sig{Tlog: st.RekorV2, TSA: true},
			root: func(r *st.Signed) []st.RootOption {
				return []st.RootOption{st.ValidFor(st.ServiceTSA, time.Time{}, r.TimestampTime.Add(-time.Second))}
			}, want: "timestamp is after the validity period end"},
		{name: "tsa/left out of the trusted root", sig: st.Sig{Tlog: st.RekorV2, TSA: true},
			root: func(*st.Signed) []st.RootOption { return []st.RootOption{st.Without(st.ServiceTSA)} }, want: noTime},

		// The logs in the trusted root.
		{name: "tlog/rekor v2 left out of the trusted root", sig: st.Sig{Tlog: st.RekorV2, TSA: true},
			root: func(*st.Signed) []st.RootOption { return []st.RootOption{st.Without(st.ServiceRekorV2)} }, want: noTlog},
		{name: "tlog/rekor v1 left out of the trusted root", sig: st.Sig{},
			root: func(*st.Signed) []st.RootOption { return []st.RootOption{st.Without(st.ServiceRekorV1)} }, want: noTlog},
		{name: "tlog/rekor v1 key expired before the entry", sig: st.Sig{},
			root: func(r *st.Signed) []st.RootOption {
				return []st.RootOption{st.ValidFor(st.ServiceRekorV1, time.Time{}, r.IntegratedTime.Add(-time.Second))}
			}, want: noTlog},
		{name: "tlog/none", sig: st.Sig{Tlog: st.NoTlog}, want: noTlog},

		// Time: the certificate must be valid when the signature is seen.
		{name: "time/seen after the certificate expired (rekor v1)", sig: st.Sig{ObservedAfter: 11 * time.Minute},
			want: "integrated time outside certificate validity"},
		{name: "time/seen after the certificate expired (TSA)", sig: st.Sig{Tlog: st.RekorV2, TSA: true, ObservedAfter: 11 * time.Minute},
			want: "failed to verify leaf certificate"},
		{name: "time/seen at the certificate's last second", sig: st.Sig{Tlog: st.RekorV2, TSA: true, ObservedAfter: 10 * time.Minute}},
		{name: "time/signed in 2023 (rekor v1)", s: past, sig: st.Sig{Time: time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC)}},
		{name: "time/signed in 2023 (rekor v2 and TSA)", s: past, sig: st.Sig{Tlog: st.RekorV2, TSA: true, Time: time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC)}},
		{name: "time/Fulcio CA validFor ended before the signature", sig: st.Sig{},
			root: func(r *st.Signed) []st.RootOption {
				return []st.RootOption{st.ValidFor(st.ServiceFulcio, time.Time{}, r.SignedAt.Add(-time.Second))}
			}, want: "failed to verify leaf certificate"},

		// Key-signed bundles.
		{name: "key/rekor v1", sig: st.Sig{PublicKey: true}, verifier: withoutSCTs()},
		{name: "key/rekor v2 and TSA", sig: st.Sig{PublicKey: true, Tlog: st.RekorV2, TSA: true}, verifier: withoutSCTs()},
		{name: "key/rekor v2 without time", sig: st.Sig{PublicKey: true, Tlog: st.RekorV2},
			verifier: []verify.VerifierOption{verify.WithTransparencyLog(1), verify.WithNoObserverTimestamps()}},
		{name: "key/SCTs required", sig: st.Sig{PublicKey: true}, want: "SCTs required but bundle is signed with a public key"},
		{name: "key/policy wants a certificate", sig: st.Sig{PublicKey: true}, verifier: withoutSCTs(),
			policy: func(t *testing.T, r *st.Signed) []verify.PolicyOption {
				id, err := verify.NewShortCertificateIdentity(st.DefaultIssuer, "", st.DefaultEmail, "")
				if err != nil {
					t.Fatal(err)
				}
				return []verify.PolicyOption{verify.WithCertificateIdentity(id)}
			}, want: "can't verify certificate identities: entity was not signed with a certificate"},

		// Digest algorithms follow the key.
		{name: "digest/P-384, SHA2_384, rekor v1", sig: st.Sig{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384}},
		{name: "digest/P-521, SHA2_512, rekor v1", sig: st.Sig{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512}},
		{name: "digest/P-521, SHA2_512, rekor v2", sig: st.Sig{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512, Tlog: st.RekorV2, TSA: true}},
		{name: "digest/RSA 3072", sig: st.Sig{Algorithm: protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256}},

		// DSSE envelopes.
		{name: "dsse/rekor v1 (dsse 0.0.1)", attest: true, sig: st.Sig{}},
		{name: "dsse/rekor v2 (hashedrekord 0.0.2 over the PAE) and TSA", attest: true, sig: st.Sig{Tlog: st.RekorV2, TSA: true}},
		{name: "dsse/rekor v2 legacy dsse 0.0.2 entry", attest: true, sig: st.Sig{Tlog: st.RekorV2, TSA: true, LegacyDSSEEntry: true}, want: legacyV2Entry},
		{name: "dsse/key, rekor v1", attest: true, sig: st.Sig{PublicKey: true}, verifier: withoutSCTs()},

		// Older bundle shapes.
		{name: "bundle/v0.2 (certificate chain)", sig: st.Sig{BundleVersion: "v0.2"}},
		{name: "bundle/v0.1 (chain, promise only)", sig: st.Sig{BundleVersion: "v0.1"}},
		{name: "bundle/v0.1 with rekor v2 has no promise", sig: st.Sig{BundleVersion: "v0.1", Tlog: st.RekorV2, TSA: true},
			want: "inclusion promises missing in bundle (required for bundle v0.1)"},
	} {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			check(t, s, v)
		})
	}
}

func githubIdentity(t *testing.T, san string, ext certificate.Extensions) verify.CertificateIdentity {
	t.Helper()
	sanMatcher, err := verify.NewSANMatcher(san, "")
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := verify.NewIssuerMatcher(st.GitHubIssuer, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := verify.NewCertificateIdentity(sanMatcher, issuer, ext)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// The bundle verifies only for its own artifact.
func TestOtherArtifactRefused(t *testing.T) {
	s := st.New(t, st.Options{})
	for _, g := range []st.Sig{{}, {Tlog: st.RekorV2, TSA: true}} {
		r := s.Sign(t, artifact, g)
		v, err := verify.NewVerifier(s.TrustedRoot(t), strict()...)
		if err != nil {
			t.Fatal(err)
		}
		_, err = v.Verify(r.Bundle, verify.NewPolicy(verify.WithArtifact(bytes.NewReader([]byte("another module"))), verify.WithCertificateIdentity(r.Identity(t))))
		if err == nil || !strings.Contains(err.Error(), "failed to verify signature") {
			t.Errorf("tlog %d: %v", g.Tlog, err)
		}
	}
}

// A deployment's bundles do not verify against another deployment's root.
func TestOtherDeploymentRefused(t *testing.T) {
	r := st.New(t, st.Options{}).Sign(t, artifact, st.Sig{})
	other := st.New(t, st.Options{})
	v, err := verify.NewVerifier(other.TrustedRoot(t), strict()...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(r.Bundle, verify.NewPolicy(verify.WithArtifact(bytes.NewReader(artifact)), verify.WithCertificateIdentity(r.Identity(t)))); err == nil {
		t.Error("verified against another deployment's trusted root")
	}
}

// The leaf is shaped as Fulcio shapes it.
func TestCertificateShape(t *testing.T) {
	s := st.New(t, st.Options{})
	t.Run("email", func(t *testing.T) {
		c := s.Sign(t, artifact, st.Sig{}).Certificate
		if len(c.EmailAddresses) != 1 || c.EmailAddresses[0] != st.DefaultEmail || len(c.Subject.Names) != 0 {
			t.Errorf("SAN %v, subject %v", c.EmailAddresses, c.Subject)
		}
		if !sanCritical(c) {
			t.Error("SAN extension not critical without a subject")
		}
		if c.NotAfter.Sub(c.NotBefore) != 10*time.Minute || c.KeyUsage != x509.KeyUsageDigitalSignature ||
			len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning || c.IsCA || len(c.SubjectKeyId) == 0 {
			t.Errorf("profile: %v..%v KU %v EKU %v", c.NotBefore, c.NotAfter, c.KeyUsage, c.ExtKeyUsage)
		}
		// Both issuer extensions: v1 raw, v2 DER UTF8String.
		var v1, v2 []byte
		for _, e := range c.Extensions {
			switch {
			case e.Id.Equal(certificate.OIDIssuer):
				v1 = e.Value
			case e.Id.Equal(certificate.OIDIssuerV2):
				v2 = e.Value
			}
		}
		var s2 string
		if rest, err := asn1.Unmarshal(v2, &s2); err != nil || len(rest) != 0 || v2[0] != asn1.TagUTF8String {
			t.Errorf("issuer v2 %x: %v", v2, err)
		}
		if string(v1) != st.DefaultIssuer || s2 != st.DefaultIssuer {
			t.Errorf("issuers %q %q", v1, s2)
		}
		// The SCT is the last extension and is by the trusted log.
		last := c.Extensions[len(c.Extensions)-1]
		if !last.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}) {
			t.Errorf("last extension %v, want the SCT list", last.Id)
		}
		scts, err := ctx509util.ParseSCTsFromCertificate(c.Raw)
		if err != nil || len(scts) != 1 {
			t.Fatalf("%d SCTs: %v", len(scts), err)
		}
		if got := time.UnixMilli(int64(scts[0].Timestamp)); !got.Equal(c.NotBefore) {
			t.Errorf("SCT time %v, certificate issued %v", got, c.NotBefore)
		}
	})
	t.Run("no SCT", func(t *testing.T) {
		c := s.Sign(t, artifact, st.Sig{SCT: st.SCTNone}).Certificate
		for _, e := range c.Extensions {
			if e.Id.Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 11129, 2, 4, 2}) {
				t.Error("SCT list present")
			}
		}
	})
	t.Run("otherName", func(t *testing.T) {
		c := s.Sign(t, artifact, st.Sig{SANType: st.SANOtherName, SAN: "builder!sigstoretest.example"}).Certificate
		if len(c.EmailAddresses)+len(c.URIs)+len(c.DNSNames)+len(c.IPAddresses) != 0 {
			t.Errorf("SANs Go understands: %v %v", c.EmailAddresses, c.URIs)
		}
		if len(c.UnhandledCriticalExtensions) != 1 || !c.UnhandledCriticalExtensions[0].Equal(cryptoutils.SANOID) {
			t.Errorf("unhandled critical extensions %v", c.UnhandledCriticalExtensions)
		}
		if name, err := cryptoutils.UnmarshalOtherNameSAN(c.Extensions); err != nil || name != "builder!sigstoretest.example" {
			t.Errorf("otherName %q: %v", name, err)
		}
	})
	t.Run("github", func(t *testing.T) {
		w := st.GitHubWorkflow{Repository: "wasmgate/plugins", RunID: "42", RunAttempt: "3"}
		c := s.Sign(t, artifact, st.Sig{GitHub: &w}).Certificate
		sum, err := certificate.SummarizeCertificate(c)
		if err != nil {
			t.Fatal(err)
		}
		san, ext := w.Identity()
		if sum.SubjectAlternativeName != san || san != "https://github.com/wasmgate/plugins/.github/workflows/release.yml@refs/heads/main" {
			t.Errorf("SAN %q", sum.SubjectAlternativeName)
		}
		if sum.Extensions != ext {
			t.Errorf("extensions\n got %+v\nwant %+v", sum.Extensions, ext)
		}
		if sum.RunInvocationURI != "https://github.com/wasmgate/plugins/actions/runs/42/attempts/3" ||
			sum.SourceRepositoryOwnerURI != "https://github.com/wasmgate" || sum.GithubWorkflowTrigger != "push" {
			t.Errorf("extensions %+v", sum.Extensions)
		}
		// The deprecated extensions are raw strings, the others DER.
		for _, e := range c.Extensions {
			if e.Id.Equal(certificate.OIDGitHubWorkflowRepository) && string(e.Value) != "wasmgate/plugins" {
				t.Errorf("1.3.6.1.4.1.57264.1.5 = %q", e.Value)
			}
		}
	})
}

func sanCritical(c *x509.Certificate) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(cryptoutils.SANOID) {
			return e.Critical
		}
	}
	return false
}

// Log entries are shaped as the Rekors write them.
func TestLogEntryShape(t *testing.T) {
	s := st.New(t, st.Options{})
	t.Run("rekor v1", func(t *testing.T) {
		for _, attest := range []bool{false, true} {
			var r *st.Signed
			kind := "hashedrekord"
			if attest {
				r, kind = s.Attest(t, st.Statement{Subjects: []st.Subject{st.SubjectOf("m", artifact)}}, st.Sig{}), "dsse"
			} else {
				r = s.Sign(t, artifact, st.Sig{})
			}
			e := r.Bundle.GetVerificationMaterial().GetTlogEntries()[0]
			p := e.GetInclusionProof()
			if e.GetKindVersion().GetKind() != kind || e.GetKindVersion().GetVersion() != "0.0.1" {
				t.Errorf("kind %v", e.GetKindVersion())
			}
			if e.GetIntegratedTime() != r.ObservedAt.Unix() || len(e.GetInclusionPromise().GetSignedEntryTimestamp()) == 0 {
				t.Errorf("integrated time %d, promise %x", e.GetIntegratedTime(), e.GetInclusionPromise().GetSignedEntryTimestamp())
			}
			if p.GetTreeSize() < 3 || p.GetLogIndex() >= p.GetTreeSize()-1 || len(p.GetHashes()) < 2 {
				t.Errorf("proof of leaf %d in a tree of %d with %d hashes", p.GetLogIndex(), p.GetTreeSize(), len(p.GetHashes()))
			}
			if e.GetLogIndex() == p.GetLogIndex() {
				t.Errorf("logIndex %d is the shard index too", e.GetLogIndex())
			}
			if !strings.HasPrefix(p.GetCheckpoint().GetEnvelope(), "rekor.sigstoretest.example - ") {
				t.Errorf("checkpoint %q", p.GetCheckpoint().GetEnvelope())
			}
		}
	})
	t.Run("rekor v2", func(t *testing.T) {
		r := s.Attest(t, st.Statement{Subjects: []st.Subject{st.SubjectOf("m", artifact)}}, st.Sig{Tlog: st.RekorV2, TSA: true, Witnesses: 2})
		e := r.Bundle.GetVerificationMaterial().GetTlogEntries()[0]
		p := e.GetInclusionProof()
		if e.GetKindVersion().GetKind() != "hashedrekord" || e.GetKindVersion().GetVersion() != "0.0.2" {
			t.Errorf("kind %v", e.GetKindVersion())
		}
		if e.GetIntegratedTime() != 0 || e.GetInclusionPromise() != nil {
			t.Errorf("integrated time %d, promise %v", e.GetIntegratedTime(), e.GetInclusionPromise())
		}
		if p.GetTreeSize() < 3 || p.GetLogIndex() != e.GetLogIndex() || len(p.GetHashes()) < 2 {
			t.Errorf("proof of leaf %d in a tree of %d", p.GetLogIndex(), p.GetTreeSize())
		}
		lines := strings.Split(p.GetCheckpoint().GetEnvelope(), "\n")
		if lines[0] != "log2025-1.rekor.sigstoretest.example" {
			t.Errorf("origin %q", lines[0])
		}
		sigs := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "— ") {
				sigs++
			}
		}
		if sigs != 3 || len(s.WitnessKeys()) < 2 {
			t.Errorf("%d note signatures, want the log's and two witnesses'", sigs)
		}
		legacy := s.Attest(t, st.Statement{Subjects: []st.Subject{st.SubjectOf("m", artifact)}}, st.Sig{Tlog: st.RekorV2, TSA: true, LegacyDSSEEntry: true})
		if kv := legacy.Bundle.GetVerificationMaterial().GetTlogEntries()[0].GetKindVersion(); kv.GetKind() != "dsse" || kv.GetVersion() != "0.0.2" {
			t.Errorf("legacy kind %v", kv)
		}
	})
}

// The message digest's algorithm is the signing key's: SHA2_512 comes
// with P-521 keys (sigstore-go verifies a P-256 signature with SHA-256
// only).
func TestDigestFollowsKey(t *testing.T) {
	s := st.New(t, st.Options{})
	for alg, want := range map[protocommon.PublicKeyDetails]struct {
		digest protocommon.HashAlgorithm
		rekor  string
	}{
		protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256: {protocommon.HashAlgorithm_SHA2_256, `"algorithm":"sha256"`},
		protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384: {protocommon.HashAlgorithm_SHA2_384, `"algorithm":"sha384"`},
		protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512: {protocommon.HashAlgorithm_SHA2_512, `"algorithm":"sha512"`},
	} {
		r := s.Sign(t, artifact, st.Sig{Algorithm: alg})
		if got := r.Bundle.GetMessageSignature().GetMessageDigest().GetAlgorithm(); got != want.digest {
			t.Errorf("%v: digest %v, want %v", alg, got, want.digest)
		}
		if body := string(r.Bundle.GetVerificationMaterial().GetTlogEntries()[0].GetCanonicalizedBody()); !strings.Contains(body, want.rekor) {
			t.Errorf("%v: hashedrekord %s", alg, body)
		}
	}
}

// Witnesses co-sign with C2SP tlog-cosignature v1 signatures, checked
// here against the specification (https://c2sp.org/tlog-cosignature) with
// the keys WitnessKeys lists.
func TestWitnessCosignatures(t *testing.T) {
	s := st.New(t, st.Options{})
	r := s.Sign(t, artifact, st.Sig{Tlog: st.RekorV2, TSA: true, Witnesses: 2})
	cp := r.Bundle.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof().GetCheckpoint().GetEnvelope()
	text, sigs, ok := strings.Cut(cp, "\n\n")
	if !ok {
		t.Fatalf("checkpoint %q", cp)
	}
	text += "\n"
	keys := s.WitnessKeys()
	if len(keys) != 2 {
		t.Fatalf("witness keys %v", keys)
	}
	for _, vkey := range keys {
		// name+hash+base64(0x01 || Ed25519 public key), as note.NewEd25519VerifierKey writes it.
		name, rest, _ := strings.Cut(vkey, "+")
		_, key64, _ := strings.Cut(rest, "+")
		raw, err := base64.StdEncoding.DecodeString(key64)
		if err != nil || len(raw) != 33 || raw[0] != 0x01 {
			t.Fatalf("vkey %q: %v", vkey, err)
		}
		pub := ed25519.PublicKey(raw[1:])
		h := sha256.Sum256(append([]byte(name+"\n\x04"), pub...))
		found := false
		for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
			who, b64, _ := strings.Cut(strings.TrimPrefix(line, "— "), " ")
			if who != name {
				continue
			}
			found = true
			sig, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || len(sig) != 4+8+ed25519.SignatureSize {
				t.Fatalf("%s: signature of %d bytes: %v", name, len(sig), err)
			}
			if !bytes.Equal(sig[:4], h[:4]) {
				t.Errorf("%s: key ID %x, want %x", name, sig[:4], h[:4])
			}
			ts := binary.BigEndian.Uint64(sig[4:12])
			if int64(ts) != r.ObservedAt.Unix() {
				t.Errorf("%s: cosigned at %d, observed at %d", name, ts, r.ObservedAt.Unix())
			}
			msg := fmt.Sprintf("cosignature/v1\ntime %d\n%s", ts, text)
			if !ed25519.Verify(pub, []byte(msg), sig[12:]) {
				t.Errorf("%s: cosignature does not verify", name)
			}
		}
		if !found {
			t.Errorf("no cosignature by %s in %q", name, cp)
		}
	}
}

// Attest signs a compact in-toto Statement v1 in an in-toto envelope.
func TestStatement(t *testing.T) {
	r := st.New(t, st.Options{}).Attest(t, st.Statement{Subjects: []st.Subject{st.SubjectOf("module.wasm", artifact)}}, st.Sig{})
	env := r.Bundle.GetDsseEnvelope()
	if env.GetPayloadType() != "application/vnd.in-toto+json" || len(env.GetSignatures()) != 1 || !bytes.Equal(env.GetPayload(), r.Content) {
		t.Fatalf("envelope %v", env)
	}
	var stmt struct {
		Type    string `json:"_type"`
		Subject []struct {
			Name   string            `json:"name"`
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
		PredicateType string         `json:"predicateType"`
		Predicate     map[string]any `json:"predicate"`
	}
	if err := json.Unmarshal(r.Content, &stmt); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(artifact)
	if stmt.Type != "https://in-toto.io/Statement/v1" || len(stmt.Subject) != 1 || stmt.Subject[0].Name != "module.wasm" ||
		stmt.Subject[0].Digest["sha256"] != fmt.Sprintf("%x", sum) || stmt.PredicateType != st.DefaultPredicateType || stmt.Predicate == nil {
		t.Errorf("statement %s", r.Content)
	}
	if bytes.ContainsAny(r.Content, " \n") {
		t.Errorf("statement not compact: %s", r.Content)
	}
}

// The timestamp is over the signature, with the certificate only on
// request.
func TestTimestampShape(t *testing.T) {
	s := st.New(t, st.Options{})
	for _, withCert := range []bool{false, true} {
		r := s.Sign(t, artifact, st.Sig{Tlog: st.RekorV2, TSA: true, TSACert: withCert})
		raw := r.Bundle.GetVerificationMaterial().GetTimestampVerificationData().GetRfc3161Timestamps()[0].GetSignedTimestamp()
		ts, err := timestamp.ParseResponse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if got := len(ts.Certificates); (got == 1) != withCert || (withCert && !ts.Certificates[0].Equal(s.TSAChain()[0])) {
			t.Errorf("certReq %v: %d certificates in the response", withCert, got)
		}
		if !ts.Time.Equal(r.ObservedAt) || !ts.Time.Equal(r.TimestampTime) || ts.Accuracy != time.Second {
			t.Errorf("time %v accuracy %v, observed %v", ts.Time, ts.Accuracy, r.ObservedAt)
		}
		leaf := s.TSAChain()[0]
		if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping {
			t.Errorf("TSA leaf EKU %v", leaf.ExtKeyUsage)
		}
		for _, e := range leaf.Extensions {
			if e.Id.Equal(asn1.ObjectIdentifier{2, 5, 29, 37}) && !e.Critical {
				t.Error("TSA leaf EKU not critical")
			}
		}
	}
}

// The trusted root lists what it should, as its JSON says.
func TestTrustedRoot(t *testing.T) {
	s := st.New(t, st.Options{})
	tr := s.TrustedRoot(t)
	if len(tr.FulcioCertificateAuthorities()) != 1 || len(tr.CTLogs()) != 1 || len(tr.RekorLogs()) != 2 || len(tr.TimestampingAuthorities()) != 1 {
		t.Errorf("CAs %d, CT logs %d, Rekor logs %d, TSAs %d", len(tr.FulcioCertificateAuthorities()), len(tr.CTLogs()), len(tr.RekorLogs()), len(tr.TimestampingAuthorities()))
	}
	for id, l := range tr.RekorLogs() {
		if !l.ValidityPeriodStart.Equal(s.Start()) || !l.ValidityPeriodEnd.IsZero() {
			t.Errorf("log %s valid %v..%v", id, l.ValidityPeriodStart, l.ValidityPeriodEnd)
		}
	}
	tr = s.TrustedRoot(t, st.Without(st.ServiceRekorV2, st.ServiceCTLog, st.ServiceTSA))
	if len(tr.CTLogs()) != 0 || len(tr.RekorLogs()) != 1 || len(tr.TimestampingAuthorities()) != 0 || len(tr.FulcioCertificateAuthorities()) != 1 {
		t.Errorf("without: CT logs %d, Rekor logs %d, TSAs %d", len(tr.CTLogs()), len(tr.RekorLogs()), len(tr.TimestampingAuthorities()))
	}
	end := s.Start().Add(time.Hour)
	tr = s.TrustedRoot(t, st.ValidFor(st.ServiceTSA, time.Time{}, end))
	if tsa := tr.TimestampingAuthorities()[0].(*root.SigstoreTimestampingAuthority); !tsa.ValidityPeriodEnd.Equal(end) || tsa.Leaf == nil {
		t.Errorf("TSA %+v", tsa)
	}
	var doc struct {
		MediaType string `json:"mediaType"`
	}
	if err := json.Unmarshal(s.TrustedRootJSON(t), &doc); err != nil || doc.MediaType != root.TrustedRootMediaType01 {
		t.Errorf("media type %q: %v", doc.MediaType, err)
	}
}
