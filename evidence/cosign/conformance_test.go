package cosign_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/signature"

	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/sigstoretest"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
)

// reference is sigstore-go's verification, called directly with the
// options the issue and cosign prescribe: an SCT for a certificate, the
// log entries required, and a certificate's time from a Rekor v1 entry or
// a TSA (observer timestamps). It shares no code with package cosign: it
// is what wasmgate's verdicts are compared with.
func reference(entity verify.SignedEntity, artifact verify.ArtifactPolicyOption, auth cosign.Authority) bool {
	vc, err := entity.VerificationContent()
	if err != nil {
		return false
	}
	for _, r := range auth.Roots {
		if vc.Certificate() != nil {
			opts := []verify.VerifierOption{verify.WithObserverTimestamps(1)}
			if !r.IgnoreSCTUnsafe {
				opts = append(opts, verify.WithSignedCertificateTimestamps(1))
			}
			if !r.IgnoreTlogUnsafe {
				opts = append(opts, verify.WithTransparencyLog(max(1, r.TlogThreshold)))
			}
			if r.TimestampThreshold > 0 {
				opts = append(opts, verify.WithSignedTimestamps(r.TimestampThreshold))
			}
			v, err := verify.NewVerifier(r.Material, opts...)
			if err != nil {
				continue
			}
			var ids []verify.PolicyOption
			for _, id := range auth.Identities {
				san, _ := verify.NewSANMatcher(id.SAN, id.SANRegexp)
				iss, _ := verify.NewIssuerMatcher(id.Issuer, id.IssuerRegexp)
				ci, err := verify.NewCertificateIdentity(san, iss, id.Extensions)
				if err != nil {
					return false
				}
				ids = append(ids, verify.WithCertificateIdentity(ci))
			}
			if _, err := v.Verify(entity, verify.NewPolicy(artifact, ids...)); err == nil {
				return true
			}
			continue
		}
		for _, k := range auth.Keys {
			sv, err := signature.LoadDefaultVerifier(k.Public)
			if err != nil {
				continue
			}
			ek := root.NewExpiringKey(sv, k.ValidFrom, k.ValidUntil)
			km := root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return ek, nil })
			var opts []verify.VerifierOption
			if !r.IgnoreTlogUnsafe {
				opts = append(opts, verify.WithTransparencyLog(max(1, r.TlogThreshold)))
			}
			if r.TimestampThreshold > 0 {
				opts = append(opts, verify.WithSignedTimestamps(r.TimestampThreshold))
			}
			if !k.ValidFrom.IsZero() || !k.ValidUntil.IsZero() {
				opts = append(opts, verify.WithObserverTimestamps(1))
			} else if r.TimestampThreshold == 0 {
				opts = append(opts, verify.WithNoObserverTimestamps())
			}
			v, err := verify.NewVerifier(root.TrustedMaterialCollection{km, r.Material}, opts...)
			if err != nil {
				continue
			}
			if _, err := v.Verify(entity, verify.NewPolicy(artifact, verify.WithKey())); err == nil {
				return true
			}
		}
	}
	return false
}

// artifactOption is the artifact a blob's digest stands for, as
// sigstore-go takes it.
func artifactOption(t *testing.T, d digest.Digest) verify.ArtifactPolicyOption {
	t.Helper()
	raw, err := hex.DecodeString(d.Encoded())
	if err != nil {
		t.Fatal(err)
	}
	return verify.WithArtifactDigest(d.Algorithm().String(), raw)
}

func digests(t *testing.T, blob []byte) []digest.Digest {
	t.Helper()
	ds, err := cosign.DigestBlob(bytes.NewReader(blob), int64(len(blob)))
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// kitRoot is a deployment's trusted root as wasmgate trusts it, with
// cosign's defaults.
func kitRoot(t *testing.T, s *sigstoretest.Sigstore, opts ...sigstoretest.RootOption) cosign.TrustedRoot {
	return cosign.TrustedRoot{Name: "sigstoretest", Material: s.TrustedRoot(t, opts...)}
}

// conformanceCase is one bundle as the Sigstore instances issue it, under
// one authority, with the verdict and reason it must get.
type conformanceCase struct {
	name   string
	signed *sigstoretest.Signed
	blob   []byte // the signed artifact (or a statement subject's bytes)
	auth   cosign.Authority
	want   error // nil: verified
}

// TestConformance checks wasmgate's verdict on bundles that the Sigstore
// instances issue — Rekor v1 and v2, witnessed checkpoints, SCTs good and
// bad, TSAs with and without their certificate, otherName identities,
// GitHub workflow identities, keys, SHA-512 — against sigstore-go's
// reference verification of the same bundle, and checks the typed reason
// of every refusal. The first three groups are the regressions of the
// issue that rebuilt this verifier: an SCT that does not verify was
// accepted, every Rekor v2 bundle was refused (a certificate checked at
// integrated time zero), and otherName-only certificates were refused.
func TestConformance(t *testing.T) {
	s := sigstoretest.New(t, sigstoretest.Options{})
	blob := []byte("a wasm module, or any file")
	id := func(sg *sigstoretest.Signed) cosign.Identity { return cosign.Identity{Issuer: sg.Issuer, SAN: sg.SAN} }
	keyless := func(sg *sigstoretest.Signed, roots ...cosign.TrustedRoot) cosign.Authority {
		if len(roots) == 0 {
			roots = []cosign.TrustedRoot{kitRoot(t, s)}
		}
		return cosign.Authority{Identities: []cosign.Identity{id(sg)}, Roots: roots}
	}
	sign := func(g sigstoretest.Sig) *sigstoretest.Signed { return s.Sign(t, blob, g) }

	v1 := sign(sigstoretest.Sig{})
	unknownLog := sign(sigstoretest.Sig{SCT: sigstoretest.SCTUnknownLog})
	badSCT := sign(sigstoretest.Sig{SCT: sigstoretest.SCTBadSignature})
	noSCT := sign(sigstoretest.Sig{SCT: sigstoretest.SCTNone})
	v2TSA := sign(sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSA: true})
	v2 := sign(sigstoretest.Sig{Tlog: sigstoretest.RekorV2})
	v2Witnessed := sign(sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSA: true, Witnesses: 3})
	v2ECDSA := sigstoretest.New(t, sigstoretest.Options{RekorV2ECDSA: true})
	v2ECDSASigned := v2ECDSA.Sign(t, blob, sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSA: true})
	tsaCert := sign(sigstoretest.Sig{TSACert: true})
	v2TSACert := sign(sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSACert: true})
	otherName := sign(sigstoretest.Sig{SANType: sigstoretest.SANOtherName})
	uri := sign(sigstoretest.Sig{SANType: sigstoretest.SANURI})
	expired := sign(sigstoretest.Sig{ObservedAfter: 20 * time.Minute})
	v2Expired := sign(sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSA: true, ObservedAfter: 20 * time.Minute})
	keyV1 := sign(sigstoretest.Sig{PublicKey: true})
	keyV2 := sign(sigstoretest.Sig{PublicKey: true, Tlog: sigstoretest.RekorV2, TSA: true})
	keyNoLog := sign(sigstoretest.Sig{PublicKey: true, Tlog: sigstoretest.NoTlog, TSA: true})
	p521 := sign(sigstoretest.Sig{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512})
	p384 := sign(sigstoretest.Sig{Algorithm: protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384})
	v01 := sign(sigstoretest.Sig{BundleVersion: "v0.1"})
	v02 := sign(sigstoretest.Sig{BundleVersion: "v0.2"})
	attestV1 := s.Attest(t, sigstoretest.Statement{Subjects: []sigstoretest.Subject{sigstoretest.SubjectOf("module.wasm", blob)}}, sigstoretest.Sig{})
	attestV2 := s.Attest(t, sigstoretest.Statement{Subjects: []sigstoretest.Subject{sigstoretest.SubjectOf("module.wasm", blob)}}, sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSA: true})
	wf := &sigstoretest.GitHubWorkflow{Repository: "acme/wasm", WorkflowPath: ".github/workflows/release.yml", Ref: "refs/tags/v1", Event: "push", SHA: "0123456789abcdef0123456789abcdef01234567"}
	gh := sign(sigstoretest.Sig{GitHub: wf})
	ghSAN, ghExt := wf.Identity()
	keyOf := func(sg *sigstoretest.Signed) cosign.Authority {
		return cosign.Authority{Keys: []cosign.Key{cosign.NewKey(sg.PublicKey)}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}
	}
	with := func(a cosign.Authority, f func(*cosign.TrustedRoot)) cosign.Authority {
		roots := append([]cosign.TrustedRoot(nil), a.Roots...)
		for i := range roots {
			f(&roots[i])
		}
		a.Roots = roots
		return a
	}
	ghOwner := func(owner, repo, workflow string) cosign.Authority {
		i, err := cosign.GitHubIdentity(owner, repo, workflow)
		if err != nil {
			t.Fatal(err)
		}
		return cosign.Authority{Identities: []cosign.Identity{i}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}
	}

	cases := []conformanceCase{
		// An SCT that does not verify against the trusted root's CT logs.
		{"SCT valid, Rekor v1", v1, blob, keyless(v1), nil},
		{"SCT by a log the root does not know", unknownLog, blob, keyless(unknownLog), cosign.ErrSCTInvalid},
		{"SCT with a broken signature", badSCT, blob, keyless(badSCT), cosign.ErrSCTInvalid},
		{"no SCT", noSCT, blob, keyless(noSCT), cosign.ErrSCTInvalid},
		{"no SCT, insecureIgnoreSCT", noSCT, blob, with(keyless(noSCT), func(r *cosign.TrustedRoot) { r.IgnoreSCTUnsafe = true }), nil},
		{"CT log left out of the root", v1, blob, keyless(v1, kitRoot(t, s, sigstoretest.Without(sigstoretest.ServiceCTLog))), cosign.ErrSCTInvalid},
		// Rekor v2: no integrated time; the time is the TSA's.
		{"Rekor v2 with a TSA timestamp", v2TSA, blob, keyless(v2TSA), nil},
		{"Rekor v2 with an ECDSA log key", v2ECDSASigned, blob, keyless(v2ECDSASigned, kitRoot(t, v2ECDSA)), nil},
		{"Rekor v2 without a timestamp: no time", v2, blob, keyless(v2), cosign.ErrMissingTimestamp},
		{"Rekor v2, checkpoint co-signed by 3 witnesses", v2Witnessed, blob, keyless(v2Witnessed), nil},
		{"Rekor v2 log left out of the root", v2TSA, blob, keyless(v2TSA, kitRoot(t, s, sigstoretest.Without(sigstoretest.ServiceRekorV2))), cosign.ErrTlogInvalid},
		{"Rekor v2 observed after the certificate expired", v2Expired, blob, keyless(v2Expired), cosign.ErrCertificateInvalid},
		{"TSA timestamp with its certificate embedded", tsaCert, blob, keyless(tsaCert), nil},
		{"Rekor v2, TSA certificate embedded", v2TSACert, blob, keyless(v2TSACert), nil},
		{"TSA whose validity ends at the timestamp (inclusive)", v2TSA, blob,
			keyless(v2TSA, kitRoot(t, s, sigstoretest.ValidFor(sigstoretest.ServiceTSA, time.Time{}, v2TSA.TimestampTime))), nil},
		{"TSA whose validity ended a second before", v2TSA, blob,
			keyless(v2TSA, kitRoot(t, s, sigstoretest.ValidFor(sigstoretest.ServiceTSA, time.Time{}, v2TSA.TimestampTime.Add(-time.Second)))), cosign.ErrMissingTimestamp},
		{"TSA left out of the root", v2TSA, blob, keyless(v2TSA, kitRoot(t, s, sigstoretest.Without(sigstoretest.ServiceTSA))), cosign.ErrMissingTimestamp},
		{"a timestamp required, none given", v1, blob, with(keyless(v1), func(r *cosign.TrustedRoot) { r.TimestampThreshold = 1 }), cosign.ErrMissingTimestamp},
		{"two log entries required", v1, blob, with(keyless(v1), func(r *cosign.TrustedRoot) { r.TlogThreshold = 2 }), cosign.ErrMissingTlog},
		// otherName-only SAN: Go's chain check would refuse the critical SAN.
		{"otherName identity", otherName, blob, keyless(otherName), nil},
		{"otherName, another name", otherName, blob, cosign.Authority{Identities: []cosign.Identity{{Issuer: otherName.Issuer, SAN: "mallory!oidc.example"}}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}, cosign.ErrIdentityMismatch},
		{"URI identity", uri, blob, keyless(uri), nil},
		{"another SAN", v1, blob, cosign.Authority{Identities: []cosign.Identity{{Issuer: v1.Issuer, SAN: "mallory@evil.example"}}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}, cosign.ErrIdentityMismatch},
		{"another issuer", v1, blob, cosign.Authority{Identities: []cosign.Identity{{Issuer: "https://accounts.evil.example", SAN: v1.SAN}}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}, cosign.ErrIdentityMismatch},
		{"certificate expired when logged", expired, blob, keyless(expired), cosign.ErrCertificateInvalid},
		{"another deployment's root", v1, blob, keyless(v1, kitRoot(t, v2ECDSA)), cosign.ErrTlogInvalid},
		{"another artifact", v1, []byte("another file"), keyless(v1), cosign.ErrSubjectMismatch},
		// Keys, logged in Rekor v1 or v2.
		{"key, Rekor v1", keyV1, blob, keyOf(keyV1), nil},
		{"key, Rekor v2 with a TSA", keyV2, blob, keyOf(keyV2), nil},
		{"key, no log entry", keyNoLog, blob, keyOf(keyNoLog), cosign.ErrMissingTlog},
		{"key, no log entry, insecureIgnoreTlog", keyNoLog, blob, with(keyOf(keyNoLog), func(r *cosign.TrustedRoot) { r.IgnoreTlogUnsafe = true }), nil},
		{"key valid until before the signature", keyV2, blob, cosign.Authority{Keys: []cosign.Key{{Public: keyV2.PublicKey, ValidUntil: keyV2.SignedAt.Add(-time.Hour)}}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}, cosign.ErrKeyNotValid},
		{"key valid when it signed", keyV2, blob, cosign.Authority{Keys: []cosign.Key{{Public: keyV2.PublicKey, ValidFrom: keyV2.SignedAt.Add(-time.Hour), ValidUntil: keyV2.SignedAt.Add(time.Hour)}}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}, nil},
		{"another key", keyV1, blob, keyOf(v1), cosign.ErrSignatureInvalid},
		// Digests other than sha256: the bundle says which one it signs.
		{"P-521 over SHA-512", p521, blob, keyless(p521), nil},
		{"P-384 over SHA-384", p384, blob, keyless(p384), nil},
		// Older bundle versions.
		{"bundle v0.1", v01, blob, keyless(v01), nil},
		{"bundle v0.2", v02, blob, keyless(v02), nil},
		// DSSE in-toto statements over the blob.
		{"in-toto statement, Rekor v1", attestV1, blob, keyless(attestV1), nil},
		{"in-toto statement, Rekor v2 and a TSA", attestV2, blob, keyless(attestV2), nil},
		{"in-toto statement about another artifact", attestV1, []byte("another file"), keyless(attestV1), cosign.ErrSubjectMismatch},
		// GitHub Actions identities, as cosign's flags and gh attestation verify check them.
		{"GitHub workflow claims that match", gh, blob, cosign.Authority{Identities: []cosign.Identity{{Issuer: sigstoretest.GitHubIssuer, SAN: ghSAN,
			Extensions: certificate.Extensions{GithubWorkflowRepository: ghExt.GithubWorkflowRepository, GithubWorkflowRef: ghExt.GithubWorkflowRef, GithubWorkflowTrigger: "push"}}}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}, nil},
		{"GitHub workflow from another repository", gh, blob, cosign.Authority{Identities: []cosign.Identity{{Issuer: sigstoretest.GitHubIssuer, SAN: ghSAN,
			Extensions: certificate.Extensions{GithubWorkflowRepository: "acme/other"}}}, Roots: []cosign.TrustedRoot{kitRoot(t, s)}}, cosign.ErrIdentityMismatch},
		{"gh --owner", gh, blob, ghOwner("acme", "", ""), nil},
		{"gh --owner, spelled in another case", gh, blob, ghOwner("ACME", "", ""), nil},
		{"gh --repo", gh, blob, ghOwner("", "acme/wasm", ""), nil},
		{"gh --repo --signer-workflow", gh, blob, ghOwner("", "acme/wasm", "acme/wasm/.github/workflows/release.yml"), nil},
		{"gh --signer-workflow with its ref", gh, blob, ghOwner("", "acme/wasm", "acme/wasm/.github/workflows/release.yml@refs/tags/v1"), nil},
		{"gh --signer-workflow, another workflow", gh, blob, ghOwner("", "acme/wasm", "acme/wasm/.github/workflows/release.yml.evil.yml"), cosign.ErrIdentityMismatch},
		{"gh --owner, another owner", gh, blob, ghOwner("evil", "", ""), cosign.ErrIdentityMismatch},
		{"gh --repo, another repository", gh, blob, ghOwner("", "acme/other", ""), cosign.ErrIdentityMismatch},
		{"gh --owner, not a GitHub workflow", v1, blob, ghOwner("acme", "", ""), cosign.ErrIdentityMismatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.signed.LoadErr != nil {
				t.Fatalf("the kit made a bundle sigstore-go cannot load: %v", tc.signed.LoadErr)
			}
			r := cosign.VerifyBlob(tc.signed.Bundle, digests(t, tc.blob), tc.auth)
			if tc.want == nil && !r.Verified {
				t.Fatalf("refused: %v", r.Err)
			}
			if tc.want != nil && (r.Verified || !errors.Is(r.Err, tc.want)) {
				t.Fatalf("verified=%v err=%v, want %v", r.Verified, r.Err, tc.want)
			}
			// Same decision as sigstore-go's reference verification, on the
			// digest the bundle signs.
			d := r.Subject
			if d == "" {
				d = digest.FromBytes(tc.blob)
			}
			if ref := reference(tc.signed.Bundle, artifactOption(t, d), tc.auth); ref != r.Verified && !gitHubClaimsOnly(tc.auth) {
				t.Fatalf("wasmgate verified=%v, sigstore-go's reference verified=%v (%v)", r.Verified, ref, r.Err)
			}
		})
	}
	t.Run("the same verdicts through the bundle JSON", func(t *testing.T) {
		for _, tc := range cases[:6] {
			b, err := cosign.ParseBundle(tc.signed.JSON)
			if err != nil {
				t.Fatal(err)
			}
			if got := cosign.VerifyBlob(b, digests(t, tc.blob), tc.auth); got.Verified != (tc.want == nil) {
				t.Errorf("%s: verified=%v (%v)", tc.name, got.Verified, got.Err)
			}
		}
	})
}

// gitHubClaimsOnly: an authority whose GitHub owner check runs after
// sigstore-go's (the reference has no such check and accepts more).
func gitHubClaimsOnly(a cosign.Authority) bool {
	for _, id := range a.Identities {
		if id.GitHub != nil {
			return true
		}
	}
	return false
}

// TestConformanceMutations: every byte that matters in a bundle, altered,
// gets the same decision from wasmgate as from sigstore-go — hundreds of
// refusals, and any acceptance an alteration cannot affect.
func TestConformanceMutations(t *testing.T) {
	s := sigstoretest.New(t, sigstoretest.Options{})
	blob := []byte("a wasm module, or any file")
	bases := map[string]*sigstoretest.Signed{
		"v1":             s.Sign(t, blob, sigstoretest.Sig{}),
		"v2+tsa":         s.Sign(t, blob, sigstoretest.Sig{Tlog: sigstoretest.RekorV2, TSA: true, Witnesses: 1}),
		"key v2+tsa":     s.Sign(t, blob, sigstoretest.Sig{PublicKey: true, Tlog: sigstoretest.RekorV2, TSA: true}),
		"dsse v1":        s.Attest(t, sigstoretest.Statement{Subjects: []sigstoretest.Subject{sigstoretest.SubjectOf("m", blob)}}, sigstoretest.Sig{}),
		"v1+tsa otherNm": s.Sign(t, blob, sigstoretest.Sig{TSACert: true, SANType: sigstoretest.SANOtherName}),
	}
	material := s.TrustedRoot(t)
	compared, accepted := 0, 0
	for name, sg := range bases {
		auth := cosign.Authority{Roots: []cosign.TrustedRoot{{Name: "sigstoretest", Material: material}}}
		if sg.Certificate != nil {
			auth.Identities = []cosign.Identity{{Issuer: sg.Issuer, SAN: sg.SAN}}
		} else {
			auth.Keys = []cosign.Key{cosign.NewKey(sg.PublicKey)}
		}
		raw := sg.JSON
		// Flip one bit in every 7th byte: signatures, certificates, log
		// entries, proofs, checkpoints, timestamps, statement, all of it.
		for i := 0; i < len(raw); i += 7 {
			mut := bytes.Clone(raw)
			mut[i] ^= 0x01
			var b bundle.Bundle
			if err := b.UnmarshalJSON(mut); err != nil {
				continue // sigstore-go refuses to load it: no verdict to compare
			}
			r := cosign.VerifyBlob(&b, digests(t, blob), auth)
			if ref := reference(&b, artifactOption(t, digest.FromBytes(blob)), auth); ref != r.Verified {
				t.Errorf("%s, byte %d altered: wasmgate verified=%v, reference %v (%v)", name, i, r.Verified, ref, r.Err)
			}
			if !r.Verified && r.Err == nil {
				t.Errorf("%s, byte %d altered: refused without a reason", name, i)
			}
			compared++
			if r.Verified {
				accepted++
			}
		}
	}
	t.Logf("%d altered bundles compared with sigstore-go's reference verification (%d accepted by both)", compared, accepted)
	if compared < 500 {
		t.Fatalf("only %d altered bundles loaded", compared)
	}
}

// TestUpstreamBundles: the bundles sigstore-go ships as test data (read
// from the module cache), real public-good, scaffolding and key-signed
// bundles, verified under the trusted roots they came with.
func TestUpstreamBundles(t *testing.T) {
	data := func(rel string) []byte {
		t.Helper()
		raw, err := os.ReadFile(sigstoreGoFile(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	rootOf := func(rel string) root.TrustedMaterial {
		tr, err := root.NewTrustedRootFromJSON(data(rel))
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	publicGood := cosign.TrustedRoot{Name: "public-good", Material: rootOf("pkg/testing/data/trusted-roots/public-good.json")}
	const jsIdentity = "https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main"
	gha := cosign.Identity{Issuer: cosign.GitHubActionsIssuer, SAN: jsIdentity}
	publishKey, err := cosign.PEMPublicKey(data("examples/publish_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	validityKey, err := cosign.PEMPublicKey(data("pkg/testing/data/public-keys/public-key-validity.pem"))
	if err != nil {
		t.Fatal(err)
	}
	tsaOnly := cosign.TrustedRoot{Name: "public-key-validity", Material: rootOf("pkg/testing/data/trusted-roots/public-key-validity.json"), IgnoreTlogUnsafe: true, TimestampThreshold: 1}
	owner, err := cosign.GitHubIdentity("sigstore", "", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, bundle string
		subject      digest.Digest
		auth         cosign.Authority
		want         error
	}{
		{"sigstore-js provenance (public-good, SHA-512 subject)", "pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
			"sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
			cosign.Authority{Identities: []cosign.Identity{gha}, Roots: []cosign.TrustedRoot{publicGood}}, nil},
		{"sigstore-js provenance, gh --owner sigstore", "pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
			"sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
			cosign.Authority{Identities: []cosign.Identity{owner}, Roots: []cosign.TrustedRoot{publicGood}}, nil},
		{"sigstore-js provenance, another identity", "pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
			"sha512:46d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c",
			cosign.Authority{Identities: []cosign.Identity{{Issuer: cosign.GitHubActionsIssuer, SAN: "https://github.com/evil/"}}, Roots: []cosign.TrustedRoot{publicGood}}, cosign.ErrIdentityMismatch},
		{"sigstore-js provenance, another artifact", "pkg/testing/data/bundles/sigstore.js@2.0.0-provenance.sigstore.json",
			digest.NewDigestFromEncoded(digest.SHA512, "00d4e2f74c4877316640000a6fdf8a8b59f1e0847667973e9859f774dd31b8f1e0937813b777fb66a2ac67d50540fe34640966eee9fc2ccca387082b4c85cd3c"),
			cosign.Authority{Identities: []cosign.Identity{gha}, Roots: []cosign.TrustedRoot{publicGood}}, cosign.ErrSubjectMismatch},
		{"sigstore-js 1.3.0 provenance (examples)", "examples/bundle-provenance.json",
			"sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751",
			cosign.Authority{Identities: []cosign.Identity{gha}, Roots: []cosign.TrustedRoot{publicGood}}, nil},
		{"npm publish, signed with a key and logged", "examples/bundle-publish.json",
			"sha512:76176ffa33808b54602c7c35de5c6e9a4deb96066dba6533f50ac234f4f1f4c6b3527515dc17c06fbe2860030f410eee69ea20079bd3a2c6f3dcf3b329b10751",
			cosign.Authority{Keys: []cosign.Key{cosign.NewKey(publishKey)}, Roots: []cosign.TrustedRoot{publicGood}}, nil},
		{"DSSE with a SHA-512 subject, email identity", "pkg/testing/data/bundles/dsse.sigstore.json",
			"sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f",
			cosign.Authority{Identities: []cosign.Identity{{Issuer: "https://github.com/login/oauth", SAN: "brian@dehamer.com"}}, Roots: []cosign.TrustedRoot{publicGood}}, nil},
		{"DSSE with two signatures", "pkg/testing/data/bundles/dsse-2sigs.sigstore.json",
			"sha512:bbfd372fc9beeb777fe35d05bb10c0c70a9733d366a75fed7dd18866c7391de3ee7e88ba74dd47abf3e15c845e547fcf0e5c3da80854c751554224d3a6d4e55f",
			cosign.Authority{Identities: []cosign.Identity{{Issuer: "https://github.com/login/oauth", SAN: "brian@dehamer.com"}}, Roots: []cosign.TrustedRoot{publicGood}}, cosign.ErrSignatureInvalid},
		{"otherName identity (scaffolding)", "pkg/testing/data/bundles/othername.sigstore.json",
			"sha256:bc103b4a84971ef6459b294a2b98568a2bfb72cded09d4acd1e16366a401f95b",
			cosign.Authority{Identities: []cosign.Identity{{Issuer: "http://oidc.local:8080", SAN: "foo!oidc.local"}},
				Roots: []cosign.TrustedRoot{{Name: "scaffolding", Material: rootOf("pkg/testing/data/trusted-roots/scaffolding.json")}}}, nil},
		{"key with a TSA, valid then", "pkg/testing/data/bundles/public-key-validity.sigstore.json", digest.FromString("test content"),
			cosign.Authority{Keys: []cosign.Key{cosign.NewKey(validityKey)}, Roots: []cosign.TrustedRoot{tsaOnly}}, nil},
		{"key with a TSA, its validity window long over", "pkg/testing/data/bundles/public-key-validity.sigstore.json", digest.FromString("test content"),
			cosign.Authority{Keys: []cosign.Key{{Public: validityKey, ValidFrom: time.Unix(0, 0), ValidUntil: time.Unix(1, 0)}}, Roots: []cosign.TrustedRoot{tsaOnly}}, cosign.ErrKeyNotValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := cosign.ParseBundle(data(tc.bundle))
			if err != nil {
				t.Fatal(err)
			}
			r := cosign.VerifyBlob(b, []digest.Digest{tc.subject}, tc.auth)
			if tc.want == nil && !r.Verified {
				t.Fatalf("refused: %v", r.Err)
			}
			if tc.want != nil && (r.Verified || !errors.Is(r.Err, tc.want)) {
				t.Fatalf("verified=%v err=%v, want %v", r.Verified, r.Err, tc.want)
			}
			if ref := reference(b, artifactOption(t, tc.subject), tc.auth); ref != r.Verified && !gitHubClaimsOnly(tc.auth) {
				t.Fatalf("wasmgate verified=%v, reference %v", r.Verified, ref)
			}
		})
	}
}

func sigstoreGoFile(t *testing.T, rel string) string {
	return testkit.ModuleFile(t, "github.com/sigstore/sigstore-go", rel)
}
