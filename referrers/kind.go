package referrers

import (
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Kind is what a referrer is, for the verifiers that consume it.
type Kind string

const (
	KindSigstoreBundle    Kind = "sigstore-bundle"    // cosign v3 signature or attestation
	KindCosignSignature   Kind = "cosign-signature"   // cosign legacy .sig (or its OCI 1.1 experiment)
	KindCosignAttestation Kind = "cosign-attestation" // cosign legacy .att
	KindNotation          Kind = "notation-signature" // JWS or COSE envelope
	KindInToto            Kind = "in-toto"            // in-toto statement or DSSE envelope
	KindSBOM              Kind = "sbom"               // SPDX or CycloneDX
	KindOther             Kind = "other"
)

// Media types and annotations that identify referrers.
const (
	ArtifactTypeSigstoreBundle    = "application/vnd.dev.sigstore.bundle.v0.3+json"
	ArtifactTypeNotation          = "application/vnd.cncf.notary.signature"
	ArtifactTypeCosignExperiment  = "application/vnd.dev.cosign.artifact.sig.v1+json"
	ArtifactTypeInToto            = "application/vnd.in-toto+json"
	ArtifactTypeDSSE              = "application/vnd.dsse.envelope.v1+json"
	MediaTypeJWS                  = "application/jose+json"
	MediaTypeCOSE                 = "application/cose"
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationInTotoPredicateType = "in-toto.io/predicate-type"
	// PredicateTypeCosignSign is the predicate of a cosign v3 signature
	// (as opposed to an attestation).
	PredicateTypeCosignSign = "https://sigstore.dev/cosign/sign/v1"

	sigstoreBundlePrefix = "application/vnd.dev.sigstore.bundle"
)

var sbomTypes = []string{
	"application/spdx+json", "text/spdx", "application/spdx",
	"application/vnd.cyclonedx+json", "application/vnd.cyclonedx+xml", "application/vnd.cyclonedx",
}

// ArtifactType is a manifest's artifactType, else its config media type:
// the rule of the OCI 1.1 image spec.
func ArtifactType(m ocispec.Manifest) string {
	if m.ArtifactType != "" {
		return m.ArtifactType
	}
	return m.Config.MediaType
}

// classification is what Classify decides.
type classification struct {
	kind          Kind
	predicateType string
	envelope      string // notation: the envelope media type
}

// classify decides a referrer's kind from its manifest and the path that
// found it (cosign's legacy tags carry no artifact type of their own).
func classify(m ocispec.Manifest, found Path) classification {
	at := ArtifactType(m)
	switch {
	case found == PathCosignSig || at == ArtifactTypeCosignExperiment:
		return classification{kind: KindCosignSignature}
	case found == PathCosignAtt:
		c := classification{kind: KindCosignAttestation}
		if len(m.Layers) > 0 {
			c.predicateType = m.Layers[0].Annotations["predicateType"]
		}
		return c
	case strings.HasPrefix(at, sigstoreBundlePrefix):
		c := classification{kind: KindSigstoreBundle, predicateType: m.Annotations[AnnotationBundlePredicateType]}
		if c.predicateType == "" && len(m.Layers) > 0 {
			c.predicateType = m.Layers[0].Annotations[AnnotationBundlePredicateType]
		}
		return c
	case at == ArtifactTypeNotation:
		c := classification{kind: KindNotation}
		if len(m.Layers) > 0 {
			c.envelope = m.Layers[0].MediaType
		}
		return c
	case at == ArtifactTypeInToto || at == ArtifactTypeDSSE:
		c := classification{kind: KindInToto, predicateType: m.Annotations[AnnotationInTotoPredicateType]}
		if c.predicateType == "" && len(m.Layers) > 0 {
			c.predicateType = m.Layers[0].Annotations[AnnotationInTotoPredicateType]
		}
		return c
	}
	for _, t := range sbomTypes {
		if at == t {
			return classification{kind: KindSBOM}
		}
	}
	return classification{kind: KindOther}
}

// IsSignature reports whether k is a signature rather than an attestation
// (a sigstore bundle is either, by its predicate type).
func IsSignature(k Kind, predicateType string) bool {
	switch k {
	case KindCosignSignature, KindNotation:
		return true
	case KindSigstoreBundle:
		return predicateType == PredicateTypeCosignSign
	}
	return false
}
