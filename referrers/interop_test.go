package referrers_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/ocilayout"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
)

const slsaV1 = "https://slsa.dev/provenance/v1"

// Referrers written by the real peers — cosign v3 (bundle and legacy
// formats, sign and attest), notation-go (JWS and COSE), oras-go and
// regctl — are all found and classified, on a registry with the Referrers
// API and on one without.
func TestDiscoverPeerReferrers(t *testing.T) {
	peers.Binary(t, "cosign")
	peers.Binary(t, "regctl")
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			subject := peers.PushSubject(t, reg, "wasm/tiny")
			ref := reg.Ref("wasm/tiny", subject.Digest.String())
			_, key, pub := peers.CosignKeys(t)
			predicate := testkit.TempFile(t, "provenance.json", []byte(`{"buildDefinition":{"buildType":"https://example.test/build","externalParameters":{"ref":"main"}},"runDetails":{"builder":{"id":"https://example.test/builder"}}}`))
			peers.CosignSign(t, key, ref, peers.CosignBundle)
			peers.CosignSign(t, key, ref, peers.CosignLegacy)
			peers.CosignAttest(t, key, ref, predicate, slsaV1, peers.CosignBundle)
			peers.CosignAttest(t, key, ref, predicate, slsaV1, peers.CosignLegacy)
			notary, _ := peers.NotationKey(t)
			peers.NotationSign(t, notary, reg.Repository(t, "wasm/tiny"), ref, peers.NotationJWS)
			peers.NotationSign(t, notary, reg.Repository(t, "wasm/tiny"), ref, peers.NotationCOSE)
			peers.OrasAttach(t, reg.Repository(t, "wasm/tiny"), subject, evidence.ArtifactTypeInToto,
				map[string]string{evidence.AnnotationInTotoPredicateType: slsaV1},
				peers.Blob{MediaType: evidence.ArtifactTypeInToto, Data: []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)})
			sbom := testkit.TempFile(t, "sbom.spdx.json", []byte(`{"spdxVersion":"SPDX-2.3"}`))
			peers.RegctlArtifactPut(t, reg.Ref("wasm/tiny", ""), subject.Digest, "application/spdx+json", sbom, "application/spdx+json", nil)

			s := openSite(t, reg, "wasm/tiny")
			res, err := referrers.Discover(testkit.Context(t), s.target, subject, s.opts())
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Rejected) != 0 {
				t.Errorf("rejected: %+v", res.Rejected)
			}
			type seen struct {
				kind      referrers.Kind
				predicate string
				envelope  string
				path      referrers.Path
			}
			var got []seen
			for _, r := range res.Referrers {
				path := r.Found[0]
				if slices.Contains(r.Found, referrers.PathAPI) {
					path = referrers.PathAPI
				}
				got = append(got, seen{r.Kind, r.PredicateType, r.Envelope, path})
			}
			listing := referrers.PathTag
			if kind == testregistry.KindGGCR {
				listing = referrers.PathAPI
			}
			want := []seen{
				{referrers.KindSigstoreBundle, evidence.PredicateTypeCosignSign, "", listing},
				{referrers.KindSigstoreBundle, slsaV1, "", listing},
				{referrers.KindCosignSignature, "", "", referrers.PathCosignSig},
				{referrers.KindCosignAttestation, slsaV1, "", referrers.PathCosignAtt},
				{referrers.KindNotation, "", evidence.MediaTypeJWS, listing},
				{referrers.KindNotation, "", evidence.MediaTypeCOSE, listing},
				{referrers.KindInToto, slsaV1, "", listing},
				{referrers.KindSBOM, "", "", listing},
			}
			sortKey := func(a seen) string { return string(a.kind) + a.predicate + a.envelope + string(a.path) }
			slices.SortFunc(got, func(a, b seen) int { return strings.Compare(sortKey(a), sortKey(b)) })
			slices.SortFunc(want, func(a, b seen) int { return strings.Compare(sortKey(a), sortKey(b)) })
			if !slices.Equal(got, want) {
				t.Errorf("classified:\n got %+v\nwant %+v", got, want)
			}

			// copy -r to an OCI layout and on to the other registry kind:
			// the same referrers, and cosign still verifies both of its
			// formats on the copy (legacy tags recreated, bundles indexed).
			layout, err := ocilayout.Open(filepath.Join(t.TempDir(), "usb"), ocilayout.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := referrers.Copy(testkit.Context(t), s.target, subject.Digest.String(), layout, "v1", referrers.CopyOptions{Recursive: true, Discover: s.opts()}); err != nil {
				t.Fatal(err)
			}
			other := testregistry.KindDistribution
			if kind == other {
				other = testregistry.KindGGCR
			}
			mirror := openSite(t, testregistry.New(t, other), "mirror/tiny")
			if _, err := referrers.Copy(testkit.Context(t), layout, "v1", mirror.target, "v1", referrers.CopyOptions{Recursive: true}); err != nil {
				t.Fatal(err)
			}
			copied, err := referrers.Discover(testkit.Context(t), mirror.target, subject, mirror.opts())
			if err != nil {
				t.Fatal(err)
			}
			if a, b := digests(res.Referrers), digests(copied.Referrers); !slices.Equal(a, b) {
				t.Errorf("after copy -r: %v, want %v", b, a)
			}
			mirrorRef := mirror.reg.Ref("mirror/tiny", subject.Digest.String())
			for _, format := range []string{peers.CosignBundle, peers.CosignLegacy} {
				if err := peers.CosignVerify(t, pub, mirrorRef, format); err != nil {
					t.Errorf("cosign verify (%s) of the copy: %v", format, err)
				}
			}
		})
	}
}
