package attest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
)

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func keyAuth(k *ecdsa.PrivateKey) cosign.Authority {
	return cosign.Authority{Keys: []cosign.Key{cosign.NewKey(k.Public())}}
}

// resultOf is rep's result for the referrer ref.
func resultOf(t testing.TB, rep *attest.Report, ref digest.Digest) attest.Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Referrer == ref {
			return r
		}
	}
	t.Fatalf("no result for %s: %+v", ref, rep)
	return attest.Result{}
}

// wantProvenanceV1 is what writePredicate's predicate summarizes to.
var wantProvenanceV1 = intoto.Provenance{
	BuilderID:        "https://github.com/acme/builder@v1",
	BuildType:        "https://actions.github.io/buildtypes/workflow/v1",
	SourceRepository: "https://github.com/acme/tiny",
	SourceDigest:     "gitCommit:6b1f8f5cf4b7a0c8a3e3c2b1d0e9f8a7b6c5d4e3",
}

// A plain DSSE referrer, as wasmgate's sign.Attest writes it with
// FormatDSSE, verifies against the signing key only.
func TestDSSEReferrer(t *testing.T) {
	key, other := ecKey(t), ecKey(t)
	predicate := testkit.ReadFile(t, writePredicate(t, ""))
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			reg := testregistry.New(t, kind)
			subject := peers.PushSubject(t, reg, "wasm/tiny")
			s := open(t, reg, "wasm/tiny")
			ref, err := sign.Attest(testkit.Context(t), s.Target, subject, key, "slsaprovenance1", predicate, sign.AttestOptions{Format: sign.FormatDSSE})
			if err != nil {
				t.Fatal(err)
			}
			req := attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, Conditions: conditions(t, passing...)}

			rep := s.check(t, subject, keyAuth(key), req)
			if !rep.Verified || len(rep.Results) != 1 {
				t.Fatalf("report: %+v", rep)
			}
			r := rep.Results[0]
			if r.Format != attest.FormatDSSE || r.Referrer != ref.Digest || r.KeyID != cosign.KeyID(key.Public()) {
				t.Fatalf("result: %+v", r)
			}
			if r.Provenance == nil || *r.Provenance != wantProvenanceV1 {
				t.Fatalf("provenance: %+v", r.Provenance)
			}

			rep = s.check(t, subject, keyAuth(other), req)
			if rep.Verified || len(rep.Results) != 1 || !errors.Is(rep.Results[0].Err, attest.ErrSignature) || !errors.Is(rep.Results[0].Err, cosign.ErrSignatureInvalid) {
				t.Fatalf("another key: %+v", rep)
			}
			if rep.Results[0].Provenance != nil {
				t.Fatalf("an unverified statement was summarized: %+v", rep.Results[0])
			}
		})
	}
}

// attachStatement attaches an unsigned in-toto statement about about to
// subject, as `oras attach --artifact-type application/vnd.in-toto+json`
// does.
func attachStatement(t testing.TB, s *site, subject ocispec.Descriptor, about digest.Digest, predicateType string, predicate []byte) ocispec.Descriptor {
	t.Helper()
	st, err := sign.AttestationStatement(about, predicateType, predicate)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := referrers.Attach(testkit.Context(t), s.Target, subject, evidence.ArtifactTypeInToto,
		[]referrers.Blob{{MediaType: evidence.PayloadTypeInToto, Data: st}},
		referrers.AttachOptions{Annotations: map[string]string{evidence.AnnotationInTotoPredicateType: evidence.PredicateTypeURI(predicateType)}})
	if err != nil {
		t.Fatal(err)
	}
	return desc
}

// An unsigned in-toto statement attached by oras is trusted only once the
// referrer manifest carries the authority's cosign signature, and then
// only for the artifact it names.
func TestInTotoReferrer(t *testing.T) {
	key, other := ecKey(t), ecKey(t)
	predicate := testkit.ReadFile(t, writePredicate(t, ""))
	req := attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, Conditions: conditions(t, passing...)}
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			reg := testregistry.New(t, kind)
			subject := peers.PushSubject(t, reg, "wasm/tiny")
			s := open(t, reg, "wasm/tiny")
			ref := attachStatement(t, s, subject, subject.Digest, evidence.PredicateTypeSLSAv1, predicate)

			rep := s.check(t, subject, keyAuth(key), req)
			if r := resultOf(t, rep, ref.Digest); rep.Verified || r.Format != attest.FormatInTotoSigned || !errors.Is(r.Err, attest.ErrSignature) {
				t.Fatalf("unsigned: %+v", rep)
			}

			if _, err := sign.Cosign(testkit.Context(t), s.Target, ref, other, sign.Options{}); err != nil {
				t.Fatal(err)
			}
			rep = s.check(t, subject, keyAuth(key), req)
			if r := resultOf(t, rep, ref.Digest); rep.Verified || !errors.Is(r.Err, attest.ErrSignature) || !errors.Is(r.Err, cosign.ErrSignatureInvalid) {
				t.Fatalf("signed by another key: %+v", rep)
			}

			if _, err := sign.Cosign(testkit.Context(t), s.Target, ref, key, sign.Options{}); err != nil {
				t.Fatal(err)
			}
			rep = s.check(t, subject, keyAuth(key), req)
			r := resultOf(t, rep, ref.Digest)
			if !rep.Verified || !r.Verified || r.KeyID != cosign.KeyID(key.Public()) || r.PredicateType != evidence.PredicateTypeSLSAv1 {
				t.Fatalf("signed: %+v", rep)
			}
			if r.Provenance == nil || *r.Provenance != wantProvenanceV1 {
				t.Fatalf("provenance: %+v", r.Provenance)
			}
			// The conditions hold for it as for any other attestation.
			bad := attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, Conditions: conditions(t, `predicate.runDetails.builder.id == "https://github.com/evil/builder@v1"`)}
			if rep := s.check(t, subject, keyAuth(key), bad); rep.Verified || !errors.Is(resultOf(t, rep, ref.Digest).Err, attest.ErrConditionFalse) {
				t.Fatalf("false condition: %+v", rep)
			}

			// A signed statement about another artifact, attached to this one.
			b := pushOther(t, s)
			replayed := attachStatement(t, s, subject, b.Digest, evidence.PredicateTypeSLSAv1, predicate)
			if _, err := sign.Cosign(testkit.Context(t), s.Target, replayed, key, sign.Options{}); err != nil {
				t.Fatal(err)
			}
			rep = s.check(t, subject, keyAuth(key), req)
			if r := resultOf(t, rep, replayed.Digest); r.Verified || !errors.Is(r.Err, attest.ErrSubjectMismatch) {
				t.Fatalf("another artifact's statement: %+v", rep)
			}
		})
	}
}

// cosign's own legacy signature (the .sig tag of the referrer's digest)
// vouches for an in-toto referrer as well.
func TestInTotoReferrerCosignLegacy(t *testing.T) {
	peers.Binary(t, "cosign")
	_, keyPath, pubPath := peers.CosignKeys(t)
	reg := testregistry.Distribution(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	ref := attachStatement(t, s, subject, subject.Digest, evidence.PredicateTypeSLSAv1, testkit.ReadFile(t, writePredicate(t, "")))
	peers.CosignSign(t, keyPath, reg.Ref("wasm/tiny", ref.Digest.String()), peers.CosignLegacy)
	rep := s.check(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pubPath))}}, attest.Requirement{PredicateType: "slsaprovenance1"})
	if !rep.Verified || rep.Results[0].Format != attest.FormatInTotoSigned {
		t.Fatalf("report: %+v", rep)
	}
}

// SLSA v0.2 provenance is summarized from builder, buildType and
// invocation.configSource.
func TestProvenanceV02(t *testing.T) {
	key := ecKey(t)
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	predicate := []byte(`{
		"builder": {"id": "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0"},
		"buildType": "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
		"invocation": {"configSource": {
			"uri": "git+https://github.com/acme/tiny@refs/tags/v1.0.0",
			"digest": {"sha1": "6b1f8f5cf4b7a0c8a3e3c2b1d0e9f8a7b6c5d4e3"},
			"entryPoint": ".github/workflows/release.yml"
		}}
	}`)
	if _, err := sign.Attest(testkit.Context(t), s.Target, subject, key, "slsaprovenance02", predicate, sign.AttestOptions{Format: sign.FormatDSSE}); err != nil {
		t.Fatal(err)
	}
	rep := s.check(t, subject, keyAuth(key), attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv02})
	if !rep.Verified {
		t.Fatalf("report: %+v", rep)
	}
	want := intoto.Provenance{
		BuilderID:        "https://github.com/slsa-framework/slsa-github-generator/.github/workflows/generator_generic_slsa3.yml@refs/tags/v1.9.0",
		BuildType:        "https://github.com/slsa-framework/slsa-github-generator/generic@v1",
		SourceRepository: "git+https://github.com/acme/tiny@refs/tags/v1.0.0",
		SourceDigest:     "sha1:6b1f8f5cf4b7a0c8a3e3c2b1d0e9f8a7b6c5d4e3",
	}
	if p := rep.Results[0].Provenance; p == nil || *p != want {
		t.Fatalf("provenance: %+v", p)
	}
}

// An SPDX document attested by `cosign attest --type spdxjson` verifies
// by its presence and conditions over it; it has no provenance summary.
func TestSPDXAttestation(t *testing.T) {
	peers.Binary(t, "cosign")
	_, keyPath, pubPath := peers.CosignKeys(t)
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	doc, err := json.Marshal(map[string]any{
		"spdxVersion":       "SPDX-2.3",
		"dataLicense":       "CC0-1.0",
		"SPDXID":            "SPDXRef-DOCUMENT",
		"name":              "tiny.wasm",
		"documentNamespace": "https://acme.example/spdx/tiny-1.0.0",
		"creationInfo":      map[string]any{"created": "2025-01-02T03:04:05Z", "creators": []any{"Tool: wasmgate-test"}},
		"packages": []any{map[string]any{
			"SPDXID": "SPDXRef-Package-tiny", "name": "tiny", "versionInfo": "1.0.0",
			"downloadLocation": "NOASSERTION", "licenseConcluded": "Apache-2.0",
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	path := testkit.TempFile(t, "sbom.spdx.json", doc)
	peers.CosignAttest(t, keyPath, reg.Ref("wasm/tiny", subject.Digest.String()), path, "spdxjson", peers.CosignBundle)
	s := open(t, reg, "wasm/tiny")
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pubPath))}}

	rep := s.check(t, subject, auth, attest.Requirement{PredicateType: "spdxjson", Conditions: conditions(t,
		`predicate.spdxVersion == "SPDX-2.3"`,
		`predicate.packages.all(p, p.licenseConcluded in ["Apache-2.0", "MIT"])`,
	)})
	if !rep.Verified || rep.Results[0].PredicateType != evidence.PredicateTypeSPDX || rep.Results[0].Provenance != nil {
		t.Fatalf("report: %+v", rep)
	}
	rep = s.check(t, subject, auth, attest.Requirement{PredicateType: evidence.PredicateTypeSPDX, Conditions: conditions(t, `predicate.spdxVersion == "SPDX-2.2"`)})
	if rep.Verified || !errors.Is(rep.Err, attest.ErrConditionFalse) {
		t.Fatalf("false condition: %+v", rep)
	}
}
