package referrers

import (
	"slices"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence"
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
	KindInTotoLayout      Kind = "in-toto-layout"     // an in-toto supply-chain layout
	KindInTotoLink        Kind = "in-toto-link"       // an in-toto link of one step
	KindPermissionPolicy  Kind = "permission-policy"  // a Wassette permission policy (AttachPolicy)
	KindOther             Kind = "other"
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
	k := kindOfType(at)
	switch {
	case found == PathCosignSig:
		return classification{kind: KindCosignSignature}
	case found == PathCosignAtt:
		c := classification{kind: KindCosignAttestation}
		if len(m.Layers) > 0 {
			c.predicateType = m.Layers[0].Annotations["predicateType"]
		}
		return c
	case k == KindSigstoreBundle:
		c := classification{kind: k, predicateType: m.Annotations[evidence.AnnotationBundlePredicateType]}
		if c.predicateType == "" && len(m.Layers) > 0 {
			c.predicateType = m.Layers[0].Annotations[evidence.AnnotationBundlePredicateType]
		}
		return c
	case k == KindNotation:
		c := classification{kind: k}
		if len(m.Layers) > 0 {
			c.envelope = m.Layers[0].MediaType
		}
		return c
	case k == KindInToto:
		c := classification{kind: k, predicateType: m.Annotations[evidence.AnnotationInTotoPredicateType]}
		if c.predicateType == "" && len(m.Layers) > 0 {
			c.predicateType = m.Layers[0].Annotations[evidence.AnnotationInTotoPredicateType]
		}
		return c
	}
	return classification{kind: k}
}

// kindOfType is the kind of a referrer of artifact type at.
func kindOfType(at string) Kind {
	switch {
	case at == evidence.ArtifactTypeCosignExperiment:
		return KindCosignSignature
	case strings.HasPrefix(at, evidence.MediaTypeSigstoreBundlePrefix):
		return KindSigstoreBundle
	case at == evidence.ArtifactTypeNotation:
		return KindNotation
	case at == evidence.ArtifactTypeInToto || at == evidence.ArtifactTypeDSSE:
		return KindInToto
	case at == evidence.ArtifactTypeInTotoLayout:
		return KindInTotoLayout
	case at == evidence.ArtifactTypeInTotoLink:
		return KindInTotoLink
	case at == evidence.ArtifactTypeWasmPolicy:
		return KindPermissionPolicy
	case slices.Contains(sbomTypes, at):
		return KindSBOM
	}
	return KindOther
}

// IsSignature reports whether k is a signature rather than an attestation
// (a sigstore bundle is either, by its predicate type).
func IsSignature(k Kind, predicateType string) bool {
	switch k {
	case KindCosignSignature, KindNotation:
		return true
	case KindSigstoreBundle:
		return predicateType == evidence.PredicateTypeCosignSign
	}
	return false
}
