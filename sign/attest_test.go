package sign_test

import (
	"errors"
	"testing"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/sign"
)

const provenance = `{"buildDefinition":{"buildType":"https://example.test/wasm-build/v1",
 "externalParameters":{"workflow":{"repository":"https://github.com/acme/wasm"}}},
 "runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"}}}`

// wasmgate attests SLSA provenance in cosign's two formats on both
// registry kinds; `cosign verify-attestation --type slsaprovenance1`
// accepts each. The plain DSSE form is discovered as in-toto.
func TestCosignAcceptsWasmgateAttestations(t *testing.T) {
	peers.Binary(t, "cosign")
	signer, pubPath := keyFiles(t)
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			subject := peers.PushSubject(t, reg, "wasm/tiny")
			s := testkit.Open(t, reg, reg.Ref("wasm/tiny", subject.Digest.String()), remote.Options{})
			for _, format := range []sign.Format{sign.FormatBundle, sign.FormatLegacy, sign.FormatDSSE} {
				if _, err := sign.Attest(testkit.Context(t), s.Target, subject, signer, "slsaprovenance1", []byte(provenance), sign.AttestOptions{Format: format}); err != nil {
					t.Fatalf("attest %s: %v", format, err)
				}
			}
			for _, format := range []string{peers.CosignBundle, peers.CosignLegacy} {
				if err := peers.CosignVerifyAttestation(t, pubPath, s.Ref.String(), "slsaprovenance1", format); err != nil {
					t.Errorf("cosign verify-attestation (%s) refused wasmgate's attestation: %v", format, err)
				}
			}
			found, err := referrers.Discover(testkit.Context(t), s.Target, subject, s.Discover)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[referrers.Kind]string{}
			for _, r := range found.Referrers {
				kinds[r.Kind] = r.PredicateType
			}
			want := "https://slsa.dev/provenance/v1"
			if kinds[referrers.KindSigstoreBundle] != want || kinds[referrers.KindCosignAttestation] != want || kinds[referrers.KindInToto] != want {
				t.Errorf("discovered %v", kinds)
			}
		})
	}
	if _, err := sign.AttestationStatement(peers.PushSubject(t, testregistry.GGCR(t), "x").Digest, "custom", []byte(`[1,2]`)); !errors.Is(err, sign.ErrAttestOptions) {
		t.Errorf("a predicate that is not an object: %v", err)
	}
	// A SLSA v1 provenance without its build definition is refused before
	// anything is signed, for the reason the attestation library gives.
	if _, err := sign.AttestationStatement(digest.FromString("x"), "slsaprovenance1", []byte(`{"runDetails":{"builder":{"id":"https://example.com/b"}}}`)); !errors.Is(err, sign.ErrAttestOptions) || !errors.Is(err, slsa.ErrBuildDefinitionRequired) {
		t.Errorf("an invalid SLSA provenance: %v", err)
	}
}
