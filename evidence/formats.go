package evidence

// Artifact types and layer media types of the evidence formats, as the
// tools that write them set them (see shared/FORMATS.md).
const (
	// ArtifactTypeSigstoreBundle is a cosign v3 signature or attestation
	// referrer, and its single layer's media type; MediaTypeSigstoreBundlePrefix
	// matches every bundle version.
	ArtifactTypeSigstoreBundle    = "application/vnd.dev.sigstore.bundle.v0.3+json"
	MediaTypeSigstoreBundlePrefix = "application/vnd.dev.sigstore.bundle"
	ArtifactTypeCosignExperiment  = "application/vnd.dev.cosign.artifact.sig.v1+json"
	MediaTypeSimpleSigning        = "application/vnd.dev.cosign.simplesigning.v1+json"
	ArtifactTypeNotation          = "application/vnd.cncf.notary.signature"
	MediaTypeJWS                  = "application/jose+json"
	MediaTypeCOSE                 = "application/cose"
	ArtifactTypeInToto            = "application/vnd.in-toto+json"
	ArtifactTypeDSSE              = "application/vnd.dsse.envelope.v1+json"
	MediaTypeDSSE                 = ArtifactTypeDSSE
	PayloadTypeInToto             = "application/vnd.in-toto+json"
)

// In-toto supply-chain layouts and links as OCI referrers: the artifact
// type of a manifest whose one layer is the layout or link (DSSE or
// in-toto's signed metadata, JSON). Neither in-toto (in-toto-golang and
// in-toto python write files, *.layout and <step>.<keyid8>.link) nor
// witness (whose policy is a DSSE payload type, not an artifact type)
// names one, so these are wasmgate's, spelled in the vnd.in-toto tree. A
// link's step and signer are read from its signed content, never from an
// annotation.
const (
	ArtifactTypeInTotoLayout = "application/vnd.in-toto.layout+json"
	ArtifactTypeInTotoLink   = "application/vnd.in-toto.link+json"
)

// ArtifactTypeWasmPolicy is a Wassette permission policy attached to a
// wasm artifact as a referrer (wasmgate attach --policy): a manifest with
// this artifact type and one layer of the same media type, the policy
// YAML. wkg and the CNCF TAG wasm layout allow one layer, so a publisher
// who cannot add a policy layer attaches the policy and signs the
// referrer. It is the media type of the policy layer
// (artifact.MediaTypePolicy), spelled again here because this package
// names formats and depends on nothing.
const ArtifactTypeWasmPolicy = "application/vnd.wasm.policy.v1+yaml"

// Annotations that carry evidence or say what it is.
const (
	// AnnotationBundlePredicateType and AnnotationBundleContent are set by
	// cosign v3 (and GitHub's push-to-registry) on bundle referrers.
	AnnotationBundlePredicateType = "dev.sigstore.bundle.predicateType"
	AnnotationBundleContent       = "dev.sigstore.bundle.content"
	// AnnotationInTotoPredicateType is oras attach's annotation on in-toto
	// referrers.
	AnnotationInTotoPredicateType = "in-toto.io/predicate-type"
	// Cosign's legacy signature layers: the signature, the certificate and
	// chain of a keyless signature, and Rekor's signed entry timestamp.
	AnnotationCosignSignature   = "dev.cosignproject.cosign/signature"
	AnnotationCosignCertificate = "dev.sigstore.cosign/certificate"
	AnnotationCosignChain       = "dev.sigstore.cosign/chain"
	AnnotationCosignRekorBundle = "dev.sigstore.cosign/bundle"
	// AnnotationCosignPredicateType is the predicate type of a legacy .att
	// layer.
	AnnotationCosignPredicateType = "predicateType"
	// AnnotationNotationThumbprints lists a Notation signature's chain.
	AnnotationNotationThumbprints = "io.cncf.notary.x509chain.thumbprint#S256"
)

// In-toto statement and predicate types.
const (
	StatementTypeV1  = "https://in-toto.io/Statement/v1"
	StatementTypeV01 = "https://in-toto.io/Statement/v0.1"
	// PredicateTypeCosignSign marks a cosign v3 signature, as opposed to an
	// attestation, in a bundle's statement and annotations.
	PredicateTypeCosignSign = "https://sigstore.dev/cosign/sign/v1"
	PredicateTypeSLSAv1     = "https://slsa.dev/provenance/v1"
	PredicateTypeSLSAv02    = "https://slsa.dev/provenance/v0.2"
	PredicateTypeSPDX       = "https://spdx.dev/Document"
	PredicateTypeCycloneDX  = "https://cyclonedx.org/bom"
	PredicateTypeVSA        = "https://slsa.dev/verification_summary/v1"
)

// cosignPredicateTypes are the short names `cosign attest --type` takes.
var cosignPredicateTypes = map[string]string{
	"slsaprovenance":   PredicateTypeSLSAv02,
	"slsaprovenance02": PredicateTypeSLSAv02,
	"slsaprovenance1":  PredicateTypeSLSAv1,
	"link":             "https://in-toto.io/Link/v1",
	"spdx":             PredicateTypeSPDX,
	"spdxjson":         PredicateTypeSPDX,
	"cyclonedx":        PredicateTypeCycloneDX,
	"vuln":             "https://cosign.sigstore.dev/attestation/vuln/v1",
	"openvex":          "https://openvex.dev/ns",
	"custom":           "https://cosign.sigstore.dev/attestation/v1",
}

// PredicateTypeURI is the predicate type URI of t: t itself, or the URI of
// one of cosign's short names (slsaprovenance1, spdxjson, ...).
func PredicateTypeURI(t string) string {
	if u, ok := cosignPredicateTypes[t]; ok {
		return u
	}
	return t
}
