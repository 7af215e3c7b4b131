package referrers

import (
	"encoding/json"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// FuzzClassify: any referrer manifest a registry serves, found by any
// path, gets exactly one kind; a cosign legacy tag always yields a cosign
// kind whatever the manifest claims, and a predicate type is only reported
// for the kinds that carry one.
func FuzzClassify(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","config":{"mediaType":"application/vnd.oci.empty.v1+json"},"layers":[{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","annotations":{"dev.sigstore.bundle.predicateType":"https://slsa.dev/provenance/v1"}}]}`), "api")
	f.Add([]byte(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.notary.signature"},"layers":[{"mediaType":"application/jose+json"}]}`), "tag")
	f.Add([]byte(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json"},"layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json"}]}`), "cosign-sig")
	f.Add([]byte(`{"schemaVersion":2,"artifactType":"application/spdx+json"}`), "api")
	f.Add([]byte(`{"layers":[{"annotations":{"predicateType":"x"}}]}`), "cosign-att")
	f.Add([]byte(`{"schemaVersion":2,"artifactType":"application/vnd.wasm.policy.v1+yaml","layers":[{"mediaType":"application/vnd.wasm.policy.v1+yaml"}]}`), "api")
	kinds := map[Kind]bool{KindSigstoreBundle: true, KindCosignSignature: true, KindCosignAttestation: true, KindNotation: true, KindInToto: true, KindSBOM: true,
		KindInTotoLayout: true, KindInTotoLink: true, KindPermissionPolicy: true, KindOther: true}
	f.Fuzz(func(t *testing.T, raw []byte, found string) {
		var m ocispec.Manifest
		if json.Unmarshal(raw, &m) != nil {
			return
		}
		c := classify(m, Path(found))
		if !kinds[c.kind] {
			t.Fatalf("kind %q", c.kind)
		}
		switch Path(found) {
		case PathCosignSig:
			if c.kind != KindCosignSignature {
				t.Fatalf("a .sig tag classified as %s", c.kind)
			}
		case PathCosignAtt:
			if c.kind != KindCosignAttestation && c.kind != KindCosignSignature {
				t.Fatalf("a .att tag classified as %s", c.kind)
			}
		}
		if c.predicateType != "" && c.kind != KindSigstoreBundle && c.kind != KindCosignAttestation && c.kind != KindInToto {
			t.Fatalf("%s with a predicate type %q", c.kind, c.predicateType)
		}
	})
}
