package peers

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/notaryproject/notation-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// Media types and annotations as FORMATS.md records them.
const (
	mtManifest      = "application/vnd.oci.image.manifest.v1+json"
	mtEmpty         = "application/vnd.oci.empty.v1+json"
	mtImageConfig   = "application/vnd.oci.image.config.v1+json"
	mtBundle        = "application/vnd.dev.sigstore.bundle.v0.3+json"
	mtSimpleSigning = "application/vnd.dev.cosign.simplesigning.v1+json"
	mtDSSE          = "application/vnd.dsse.envelope.v1+json"
	mtNotary        = "application/vnd.cncf.notary.signature"
	mtInToto        = "application/vnd.in-toto+json"
	mtSPDX          = "application/spdx+json"

	slsaV1 = "https://slsa.dev/provenance/v1"
)

// producer makes one object about subject in repo.
type producer struct {
	name   string
	legacy string // tag suffix of a legacy cosign object; "" for a referrer
	want   shape
	make   func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor)
}

// shape is what a producer's manifest must look like. Annotations listed
// must be present with that value ("*": any non-empty value).
type shape struct {
	artifactType     string
	config           string
	layers           []string
	subject          bool
	annotations      map[string]string
	layerAnnotations map[string]string // on the first layer
	// bundle, when not empty, is the predicate type the sigstore bundle
	// in the first layer must carry in its DSSE in-toto statement.
	bundle string
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv("CI", "")
	var sub *testing.T
	t.Run("missing", func(t *testing.T) {
		sub = t
		Binary(t, "wasmgate-no-such-peer")
		t.Error("Binary returned for a tool that does not exist")
	})
	if !sub.Skipped() {
		t.Error("a missing tool did not skip the test")
	}
}

func TestSubject(t *testing.T) {
	reg := testregistry.Distribution(t)
	desc := PushSubject(t, reg, "peers/subject")
	m := fetchManifest(t, reg.Repository(t, "peers/subject"), desc)
	if m.Config.MediaType != "application/vnd.wasm.config.v0+json" || len(m.Layers) != 1 || m.Layers[0].MediaType != "application/wasm" {
		t.Fatalf("subject manifest: config %s, layers %v", m.Config.MediaType, m.Layers)
	}
	var cfg struct{ Architecture, OS string }
	raw, err := content.FetchAll(t.Context(), reg.Repository(t, "peers/subject"), m.Config)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &cfg); err != nil || cfg.Architecture != "wasm" || cfg.OS != "wasip1" {
		t.Fatalf("subject config %s: %v", raw, err)
	}
	got, err := reg.Repository(t, "peers/subject").Resolve(t.Context(), SubjectTag)
	if err != nil || got.Digest != desc.Digest {
		t.Fatalf("tag %s: %v %v, want %s", SubjectTag, got.Digest, err, desc.Digest)
	}
}

// TestProducers makes one referrer (or legacy tag) with each peer on each
// registry and checks it against FORMATS.md; the tests of wasmgate's
// referrers package rely on these shapes.
func TestProducers(t *testing.T) {
	_, key, pub := CosignKeys(t)
	_, otherPub := otherCosignKey(t)
	notary, root := NotationKey(t)
	trust := NotationVerifyMaterial(t, root)
	predicate := writePredicate(t)

	producers := []producer{
		{
			name: "cosign-sign-bundle",
			want: shape{artifactType: mtBundle, config: mtEmpty, layers: []string{mtBundle}, subject: true,
				annotations: map[string]string{"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": "https://sigstore.dev/cosign/sign/v1"},
				bundle:      "https://sigstore.dev/cosign/sign/v1"},
			make: func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor) {
				ref := reg.Ref(repo, subject.Digest.String())
				CosignSign(t, key, ref, CosignBundle)
				if err := CosignVerify(t, pub, ref, CosignBundle); err != nil {
					t.Errorf("cosign verify (bundle) refused what cosign sign wrote: %v", err)
				}
				if err := CosignVerify(t, otherPub, ref, CosignBundle); err == nil {
					t.Error("cosign verify (bundle) accepted the signature with another key")
				}
			},
		},
		{
			name:   "cosign-sign-legacy",
			legacy: ".sig",
			want: shape{config: mtImageConfig, layers: []string{mtSimpleSigning},
				layerAnnotations: map[string]string{"dev.cosignproject.cosign/signature": "*"}},
			make: func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor) {
				ref := reg.Ref(repo, subject.Digest.String())
				CosignSign(t, key, ref, CosignLegacy)
				if err := CosignVerify(t, pub, ref, CosignLegacy); err != nil {
					t.Errorf("cosign verify (legacy) refused what cosign sign wrote: %v", err)
				}
				var ce *CommandError
				if err := CosignVerify(t, otherPub, ref, CosignLegacy); !errors.As(err, &ce) {
					t.Errorf("cosign verify (legacy) with another key: %v, want a *CommandError", err)
				}
			},
		},
		{
			name: "cosign-attest-bundle",
			want: shape{artifactType: mtBundle, config: mtEmpty, layers: []string{mtBundle}, subject: true,
				annotations: map[string]string{"dev.sigstore.bundle.content": "dsse-envelope", "dev.sigstore.bundle.predicateType": slsaV1},
				bundle:      slsaV1},
			make: func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor) {
				ref := reg.Ref(repo, subject.Digest.String())
				CosignAttest(t, key, ref, predicate, "slsaprovenance1", CosignBundle)
				if err := CosignVerifyAttestation(t, pub, ref, "slsaprovenance1", CosignBundle); err != nil {
					t.Errorf("cosign verify-attestation (bundle) refused what cosign attest wrote: %v", err)
				}
			},
		},
		{
			name:   "cosign-attest-legacy",
			legacy: ".att",
			want: shape{config: mtImageConfig, layers: []string{mtDSSE},
				layerAnnotations: map[string]string{"predicateType": slsaV1, "dev.cosignproject.cosign/signature": ""}},
			make: func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor) {
				ref := reg.Ref(repo, subject.Digest.String())
				CosignAttest(t, key, ref, predicate, slsaV1, CosignLegacy)
				if err := CosignVerifyAttestation(t, pub, ref, slsaV1, CosignLegacy); err != nil {
					t.Errorf("cosign verify-attestation (legacy) refused what cosign attest wrote: %v", err)
				}
			},
		},
		notationProducer(NotationJWS, "application/jose+json", notary, trust),
		notationProducer(NotationCOSE, "application/cose", notary, trust),
		{
			name: "oras-attach-in-toto",
			want: shape{artifactType: mtInToto, config: mtEmpty, layers: []string{mtInToto}, subject: true,
				annotations: map[string]string{AnnotationPredicateType: slsaV1, ocispec.AnnotationCreated: "*"}},
			make: func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor) {
				OrasAttach(t, reg.Repository(t, repo), subject, mtInToto,
					map[string]string{AnnotationPredicateType: slsaV1},
					Blob{MediaType: mtInToto, Data: []byte(`{"_type":"https://in-toto.io/Statement/v1"}`), Title: "statement.json"})
			},
		},
		{
			name: "regctl-artifact-put-spdx",
			want: shape{artifactType: mtSPDX, config: mtEmpty, layers: []string{mtSPDX}, subject: true,
				annotations: map[string]string{"org.example.note": "from regctl"}},
			make: func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor) {
				sbom := testkit.TempFile(t, "sbom.spdx.json", []byte(`{"spdxVersion":"SPDX-2.3"}`))
				d := RegctlArtifactPut(t, reg.Ref(repo, ""), subject.Digest, mtSPDX, sbom, mtSPDX,
					map[string]string{"org.example.note": "from regctl"})
				if _, err := reg.Repository(t, repo).Resolve(t.Context(), d.String()); err != nil {
					t.Errorf("regctl printed %s, which the registry does not have: %v", d, err)
				}
			},
		},
	}

	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			reg := testregistry.New(t, kind)
			for _, p := range producers {
				t.Run(p.name, func(t *testing.T) {
					t.Parallel()
					repo := "peers/" + p.name
					subject := PushSubject(t, reg, repo)
					p.make(t, reg, repo, subject)
					r := reg.Repository(t, repo)
					tags := listTags(t, r)
					t.Logf("tags after %s on %s: %v", p.name, kind, tags)
					if p.legacy != "" {
						tag := strings.Replace(subject.Digest.String(), ":", "-", 1) + p.legacy
						if !slices.Contains(tags, tag) {
							t.Fatalf("no tag %s; tags %v", tag, tags)
						}
						desc, err := r.Resolve(t.Context(), tag)
						if err != nil {
							t.Fatal(err)
						}
						checkShape(t, r, desc, subject, p.want)
						return
					}
					refs := referrers(t, reg, r, subject)
					if len(refs) != 1 {
						t.Fatalf("%d referrers, want 1: %+v", len(refs), refs)
					}
					t.Logf("listed as %+v", refs[0])
					checkShape(t, r, refs[0], subject, p.want)
				})
			}
		})
	}
}

func notationProducer(envelope, layer string, s notation.Signer, trust NotationTrust) producer {
	return producer{
		name: "notation-" + envelope,
		want: shape{config: mtNotary, layers: []string{layer}, subject: true,
			annotations: map[string]string{"io.cncf.notary.x509chain.thumbprint#S256": "*"}},
		make: func(t *testing.T, reg *testregistry.Registry, repo string, subject ocispec.Descriptor) {
			r := reg.Repository(t, repo)
			// As the notation CLI does by default (--force-referrers-tag).
			r.SetReferrersCapability(false)
			ref := reg.Ref(repo, subject.Digest.String())
			sig := NotationSign(t, s, r, ref, envelope)
			if sig.MediaType != mtManifest || sig.Digest == "" {
				t.Errorf("NotationSign returned %+v", sig)
			}
			if err := NotationVerify(t, trust, reg.Repository(t, repo), ref); err != nil {
				t.Errorf("notation verify refused what notation sign wrote: %v", err)
			}
		},
	}
}

// otherCosignKey is a second key pair, to show that verification is not
// vacuous.
func otherCosignKey(t *testing.T) (key, pub string) {
	t.Helper()
	_, key, pub = CosignKeys(t)
	return key, pub
}

func writePredicate(t *testing.T) string {
	t.Helper()
	const slsa = `{"buildDefinition":{"buildType":"https://wasmgate.dev/test/build/v1","externalParameters":{"source":"tiny.wat"}},` +
		`"runDetails":{"builder":{"id":"https://wasmgate.dev/test/builder"}}}`
	return testkit.TempFile(t, "provenance.json", []byte(slsa))
}

func listTags(t *testing.T, r *remote.Repository) []string {
	t.Helper()
	var tags []string
	if err := r.Tags(t.Context(), "", func(ts []string) error {
		tags = append(tags, ts...)
		return nil
	}); err != nil {
		t.Fatalf("listing tags: %v", err)
	}
	return tags
}

// fallbackTag is the referrers tag scheme's tag for subject.
func fallbackTag(subject ocispec.Descriptor) string {
	return strings.Replace(subject.Digest.String(), ":", "-", 1)
}

// referrers lists subject's referrers the way the registry offers: the
// Referrers API on ggcr, the fallback tag's index on distribution. The
// other source is logged, because tools differ in whether they write the
// fallback tag on a registry with the API.
func referrers(t *testing.T, reg *testregistry.Registry, r *remote.Repository, subject ocispec.Descriptor) []ocispec.Descriptor {
	t.Helper()
	fromTag, tagErr := tagIndex(t, r, subject)
	switch reg.Kind {
	case testregistry.KindGGCR:
		api := reg.Repository(t, r.Reference.Repository)
		api.SetReferrersCapability(true)
		var refs []ocispec.Descriptor
		if err := api.Referrers(t.Context(), subject, "", func(ds []ocispec.Descriptor) error {
			refs = append(refs, ds...)
			return nil
		}); err != nil {
			t.Fatalf("Referrers API: %v", err)
		}
		t.Logf("ggcr: fallback tag %s: %d entries (err %v)", fallbackTag(subject), len(fromTag), tagErr)
		return refs
	default:
		if tagErr != nil {
			t.Fatalf("fallback tag %s: %v", fallbackTag(subject), tagErr)
		}
		// oras-go's own discovery must agree with reading the tag.
		var auto []ocispec.Descriptor
		if err := r.Referrers(t.Context(), subject, "", func(ds []ocispec.Descriptor) error {
			auto = append(auto, ds...)
			return nil
		}); err != nil {
			t.Fatalf("oras-go Referrers: %v", err)
		}
		if len(auto) != len(fromTag) {
			t.Errorf("oras-go lists %d referrers, the tag's index %d", len(auto), len(fromTag))
		}
		return fromTag
	}
}

func tagIndex(t *testing.T, r *remote.Repository, subject ocispec.Descriptor) ([]ocispec.Descriptor, error) {
	t.Helper()
	desc, raw, err := r.FetchReference(t.Context(), fallbackTag(subject))
	if err != nil {
		return nil, err
	}
	defer raw.Close()
	b, err := content.ReadAll(raw, desc)
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, err
	}
	if idx.MediaType != ocispec.MediaTypeImageIndex {
		t.Errorf("fallback tag holds %s, want an image index", idx.MediaType)
	}
	return idx.Manifests, nil
}

func fetchManifest(t *testing.T, r *remote.Repository, desc ocispec.Descriptor) ocispec.Manifest {
	t.Helper()
	b, err := content.FetchAll(t.Context(), r, desc)
	if err != nil {
		t.Fatalf("fetching %s: %v", desc.Digest, err)
	}
	if digest.FromBytes(b) != desc.Digest {
		t.Fatalf("manifest %s: digest mismatch", desc.Digest)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func checkShape(t *testing.T, r *remote.Repository, desc ocispec.Descriptor, subject ocispec.Descriptor, want shape) {
	t.Helper()
	if desc.MediaType != mtManifest {
		t.Errorf("descriptor mediaType %s, want %s", desc.MediaType, mtManifest)
	}
	m := fetchManifest(t, r, desc)
	raw, _ := json.Marshal(m)
	t.Logf("manifest %s: %s", desc.Digest, raw)
	if m.MediaType != mtManifest {
		t.Errorf("mediaType %q, want %s", m.MediaType, mtManifest)
	}
	if m.ArtifactType != want.artifactType {
		t.Errorf("artifactType %q, want %q", m.ArtifactType, want.artifactType)
	}
	if m.Config.MediaType != want.config {
		t.Errorf("config.mediaType %q, want %q", m.Config.MediaType, want.config)
	}
	var layers []string
	for _, l := range m.Layers {
		layers = append(layers, l.MediaType)
	}
	if !slices.Equal(layers, want.layers) {
		t.Errorf("layers %v, want %v", layers, want.layers)
	}
	switch {
	case want.subject && m.Subject == nil:
		t.Error("no subject")
	case want.subject && m.Subject.Digest != subject.Digest:
		t.Errorf("subject %s, want %s", m.Subject.Digest, subject.Digest)
	case !want.subject && m.Subject != nil:
		t.Errorf("subject %s, want none", m.Subject.Digest)
	}
	checkAnnotations(t, "manifest", m.Annotations, want.annotations)
	if len(m.Layers) > 0 {
		checkAnnotations(t, "layer", m.Layers[0].Annotations, want.layerAnnotations)
		if want.bundle != "" {
			checkBundle(t, r, m.Layers[0], subject, want.bundle)
		}
	}
}

// checkBundle reads a cosign v3 bundle: a key-signed DSSE envelope whose
// in-toto statement names the subject manifest, and only a public key hint
// as verification material (no certificate, no tlog entry).
func checkBundle(t *testing.T, r *remote.Repository, layer, subject ocispec.Descriptor, predicateType string) {
	t.Helper()
	raw, err := content.FetchAll(t.Context(), r, layer)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		MediaType            string `json:"mediaType"`
		VerificationMaterial struct {
			PublicKey *struct {
				Hint string `json:"hint"`
			} `json:"publicKey"`
			Certificate json.RawMessage `json:"certificate"`
			TlogEntries []any           `json:"tlogEntries"`
		} `json:"verificationMaterial"`
		DSSE struct {
			Payload     []byte `json:"payload"`
			PayloadType string `json:"payloadType"`
			Signatures  []struct {
				Sig []byte `json:"sig"`
			} `json:"signatures"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatalf("bundle: %v", err)
	}
	t.Logf("bundle: %s", raw)
	if b.MediaType != mtBundle {
		t.Errorf("bundle mediaType %q", b.MediaType)
	}
	if vm := b.VerificationMaterial; vm.PublicKey == nil || vm.PublicKey.Hint == "" || vm.Certificate != nil || len(vm.TlogEntries) != 0 {
		t.Errorf("verification material: %+v, want only a public key hint", vm)
	}
	if b.DSSE.PayloadType != "application/vnd.in-toto+json" || len(b.DSSE.Signatures) != 1 || len(b.DSSE.Signatures[0].Sig) == 0 {
		t.Errorf("DSSE envelope: payloadType %q, %d signatures", b.DSSE.PayloadType, len(b.DSSE.Signatures))
	}
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(b.DSSE.Payload, &st); err != nil {
		t.Fatalf("statement: %v", err)
	}
	if st.PredicateType != predicateType {
		t.Errorf("statement predicateType %q, want %q", st.PredicateType, predicateType)
	}
	if len(st.Subject) != 1 || st.Subject[0].Digest["sha256"] != subject.Digest.Encoded() {
		t.Errorf("statement subject %+v, want sha256 %s", st.Subject, subject.Digest.Encoded())
	}
}

func checkAnnotations(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		g, ok := got[k]
		switch {
		case !ok:
			t.Errorf("%s annotation %s missing; have %v", what, k, got)
		case v == "*" && g == "":
			t.Errorf("%s annotation %s is empty", what, k)
		case v != "*" && g != v:
			t.Errorf("%s annotation %s = %q, want %q", what, k, g, v)
		}
	}
}
