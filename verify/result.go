package verify

import (
	"time"

	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/intoto"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/referrers"
)

// SchemaVersion identifies the JSON form of a Report. The schema is
// docs/verify-result.v1.schema.json; fields are only added within a version.
const SchemaVersion = "wasmgate.verify/v1"

// Verdict is the outcome of verifying one reference.
type Verdict string

const (
	// VerdictVerified: every check the statement requires ran and passed.
	VerdictVerified Verdict = "verified"
	// VerdictDenied: a check failed; the artifact is not what the policy
	// requires.
	VerdictDenied Verdict = "denied"
	// VerdictUndecided: a check could not run to its end (registry,
	// network, time) and none failed.
	VerdictUndecided Verdict = "undecided"
)

// Status is the state of one check.
type Status string

const (
	StatusPassed Status = "passed"
	StatusFailed Status = "failed"
	// StatusError: the check could not decide (registry, network, time).
	StatusError Status = "error"
	// StatusNotRun: an earlier check ended the pipeline first.
	StatusNotRun Status = "notRun"
)

// Check names. Attestation checks are "attestation" with the predicate
// type as Subject; layout checks are "layout" with the requirement's name.
const (
	CheckScope       = "scope"
	CheckDigest      = "digest"
	CheckManifest    = "manifest"
	CheckLayers      = "layers"
	CheckSignatures  = "signatures"
	CheckAttestation = "attestation"
	CheckLayout      = "layout"
	// CheckPermissionPolicy is where a statement with permissionPolicy
	// found the wasm artifact's permission policy: its layer, a signed
	// policy referrer, or none.
	CheckPermissionPolicy = "permissionPolicy"
	// CheckPlatform is one platform manifest of an index under
	// platforms: each, with "os/arch[/variant] digest" as Subject.
	CheckPlatform = "platform"
)

// Check is one requirement of the statement and what became of it.
type Check struct {
	Name    string `json:"name"`
	Subject string `json:"subject,omitempty"`
	Status  Status `json:"status"`
	// Reason says what passed, or why not.
	Reason string `json:"reason,omitempty"`
	// Err is the typed error of a failed or errored check.
	Err error `json:"-"`
}

// Result is the verification of one reference under a policy.
type Result struct {
	// Reference is the reference as given; Pinned is it pinned by the
	// digest it resolved to, once (every check used that digest).
	Reference  string        `json:"reference"`
	Pinned     string        `json:"pinned,omitempty"`
	Digest     digest.Digest `json:"digest,omitempty"`
	Repository string        `json:"repository"`
	// SubjectKind is what the manifest resolved to is (wasm, image, index
	// or artifact), and ArtifactType its artifactType or config media type.
	SubjectKind  artifact.SubjectKind `json:"subjectKind,omitempty"`
	ArtifactType string               `json:"artifactType,omitempty"`
	// Policy is the statement that governs the repository and Scope the
	// pattern of it that matched; both empty when none did.
	Policy string `json:"policy,omitempty"`
	Scope  string `json:"scope,omitempty"`
	Mode   Mode   `json:"mode"`
	// Verdict is what the checks found; Pass is what the gate does with
	// it: true only for verified, except in warn and audit mode, which
	// pass whatever the verdict and say so.
	Verdict Verdict `json:"verdict"`
	Pass    bool    `json:"pass"`
	// Checks are every check the statement requires, in order, each with
	// its status: a verdict of verified means all of them passed.
	Checks []Check      `json:"checks"`
	Layers *LayerReport `json:"layers,omitempty"`
	// Content is what the layer check found on a subject that is not
	// wasm (Layers is a wasm artifact's).
	Content *ContentReport `json:"content,omitempty"`
	// Platforms are the platform manifests of an index checked under
	// platforms: each.
	Platforms    []PlatformReport    `json:"platforms,omitempty"`
	Signatures   *SignatureReport    `json:"signatures,omitempty"`
	Attestations []AttestationReport `json:"attestations,omitempty"`
	Layouts      []LayoutReport      `json:"layouts,omitempty"`
	// PermissionPolicy says where a wasm artifact's permission policy came
	// from (its layer, or a signed policy referrer) and, under a statement
	// with permissionPolicy, which policy referrers were read and why each
	// counted or not. Nil when the artifact has no policy.
	PermissionPolicy *PermissionPolicyReport `json:"permissionPolicy,omitempty"`
	// Insecure lists what the policy chose to give up.
	Insecure []string `json:"insecure,omitempty"`
	// Listing is how referrers were discovered; Rejected are referrers
	// discovery refused (another subject, malformed).
	Listing  referrers.Path       `json:"listing,omitempty"`
	Rejected []referrers.Rejected `json:"rejectedReferrers,omitempty"`
	// SkippedReferrers, when some were, says how many listed referrers
	// were not read because no verifier the statement requires reads
	// their kind.
	SkippedReferrers *SkippedReferrers `json:"skippedReferrers,omitempty"`
	// Cached is set when the layer and evidence checks were taken from
	// a verdict kept by Options.Results.
	Cached *Cached `json:"cached,omitempty"`
}

// SkippedReferrers are the referrers a verification left unread. Skipping
// is fail-closed: a signature listed under another kind is missed (the
// verdict says what is missing), never accepted.
type SkippedReferrers struct {
	Count int `json:"count"`
	// Unfetched of them were judged by their listed artifact type alone,
	// without a request; the others had to be fetched to be judged (a
	// registry that lists no artifact type, or a config type).
	Unfetched int `json:"unfetched"`
	// ArtifactTypes counts them by artifact type.
	ArtifactTypes map[string]int `json:"artifactTypes"`
	Reason        string         `json:"reason"`
}

// LayerReport is what the layer check found.
type LayerReport struct {
	Kind        artifact.Kind   `json:"kind"`
	Wasm        digest.Digest   `json:"wasm"`
	WasmBytes   int64           `json:"wasmBytes"`
	Policy      digest.Digest   `json:"policy,omitempty"`
	Unknown     []digest.Digest `json:"unknown,omitempty"`
	Permissions any             `json:"permissions,omitempty"`
}

// PolicyOrigin is where a permission policy came from.
type PolicyOrigin string

const (
	// PolicyFromLayer: the artifact's own policy layer.
	PolicyFromLayer PolicyOrigin = "layer"
	// PolicyFromReferrer: a policy referrer signed by an authority allowed
	// to sign policies (the statement's permissionPolicy).
	PolicyFromReferrer PolicyOrigin = "referrer"
)

// PolicySource says where a permission policy came from.
type PolicySource struct {
	// From is PolicyFromLayer or PolicyFromReferrer; "" when there is no
	// policy.
	From PolicyOrigin `json:"from,omitempty"`
	// Digest is the digest of the policy's bytes (the layer's, in the
	// artifact or in the referrer).
	Digest digest.Digest `json:"digest,omitempty"`
	// Referrers are the policy referrers that held it (several only when
	// they are byte-identical), and SignedBy the authorities allowed to
	// sign policies whose signature of one of them verified.
	Referrers []digest.Digest `json:"referrers,omitempty"`
	SignedBy  []string        `json:"signedBy,omitempty"`
}

// PermissionPolicyReport is the permission policy check.
type PermissionPolicyReport struct {
	PolicySource
	// Permissions summarises the policy (permissions.Policy.Summary).
	Permissions any `json:"permissions,omitempty"`
	// Results are the policy referrers read, in digest order, each with
	// what became of it.
	Results []PolicyReferrerResult `json:"results,omitempty"`
}

// PolicyReferrerResult is one policy referrer and whether it counted.
type PolicyReferrerResult struct {
	Referrer digest.Digest `json:"referrer"`
	// Policy is its layer's digest, when it was read (only for a referrer
	// that counts: an unsigned one's content is never fetched).
	Policy digest.Digest `json:"policy,omitempty"`
	// SignedBy are the authorities of the statement (and of its
	// permissionPolicy) whose signature of the referrer verified; Allowed
	// are those of them allowed to sign policies.
	SignedBy []string `json:"signedBy,omitempty"`
	Allowed  []string `json:"allowed,omitempty"`
	Counted  bool     `json:"counted"`
	// Reason says why it did not count.
	Reason string `json:"reason,omitempty"`
}

// SignatureReport is the threshold check: which authorities signed.
type SignatureReport struct {
	Threshold   int               `json:"threshold"`
	Satisfied   int               `json:"satisfied"`
	Authorities []AuthorityResult `json:"authorities"`
}

// AuthorityResult is what one authority's verifier found.
type AuthorityResult struct {
	Name        string        `json:"name"`
	Kind        AuthorityKind `json:"kind"`
	Description string        `json:"description"`
	// Satisfied: at least one signature of this authority verified.
	Satisfied bool              `json:"satisfied"`
	Cosign    []cosign.Result   `json:"cosign,omitempty"`
	Notation  []notation.Result `json:"notation,omitempty"`
	// Error is set when the verifier could not decide.
	Error string `json:"error,omitempty"`
	Err   error  `json:"-"`
}

// AttestationReport is one required attestation.
type AttestationReport struct {
	PredicateType string              `json:"predicateType"`
	SignedBy      []string            `json:"signedBy"`
	MinCount      int                 `json:"minCount"`
	Passed        int                 `json:"passed"`
	Verified      bool                `json:"verified"`
	Results       []AttestationResult `json:"results"`
	Error         string              `json:"error,omitempty"`
	Err           error               `json:"-"`
}

// AttestationResult is one attestation checked against one authority.
type AttestationResult struct {
	Authority string `json:"authority"`
	attest.Result
}

// LayoutReport is one required in-toto layout: what it required, the
// layout that met it and the links that counted, or every layout tried.
type LayoutReport struct {
	Name string `json:"name"`
	// OwnerKeys are the key IDs of the rule's owner keys.
	OwnerKeys []string `json:"ownerKeyIds"`
	// Product says which digest of the artifact, ProductDigest, had to be
	// a final product.
	Product       LayoutProduct `json:"product"`
	ProductDigest digest.Digest `json:"productDigest"`
	Verified      bool          `json:"verified"`
	// Layout is the layout referrer that verified; Links are the link
	// referrers whose links its steps counted.
	Layout digest.Digest   `json:"layout,omitempty"`
	Links  []digest.Digest `json:"links,omitempty"`
	// Results are the layout referrers tried, in digest order, up to the
	// first that verified.
	Results []LayoutResult `json:"results"`
	// Error is set when the registry failed while the layout and links
	// were read: no verdict.
	Error string `json:"error,omitempty"`
	Err   error  `json:"-"`
}

// LayoutResult is one layout referrer checked against a requirement, as
// evidence/intoto found it (materials and products of the whole chain
// left out: a link of a source tree lists every file).
type LayoutResult struct {
	Referrer digest.Digest `json:"referrer,omitempty"`
	Verified bool          `json:"verified"`
	Expires  time.Time     `json:"expires,omitzero"`
	// OwnerKeys are the layout keys whose signatures verified.
	OwnerKeys []string            `json:"ownerKeyIds,omitempty"`
	Steps     []intoto.StepResult `json:"steps,omitempty"`
	// Product is the final product that has the artifact's digest.
	Product     string   `json:"product,omitempty"`
	Inspections []string `json:"inspections,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
	// FailedStep and FailedRule say where verification failed, Reason
	// why; Unsupported is set for a layout that asks for what wasmgate
	// never does (inspections run commands): it cannot be met here, and a
	// retry will not change that, so the requirement fails.
	FailedStep  string   `json:"failedStep,omitempty"`
	FailedRule  []string `json:"failedRule,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Unsupported bool     `json:"unsupported,omitempty"`
	Err         error    `json:"-"`
}

// check returns the check called name (and subject), or nil.
func (r *Result) check(name, subject string) *Check {
	for i := range r.Checks {
		if r.Checks[i].Name == name && r.Checks[i].Subject == subject {
			return &r.Checks[i]
		}
	}
	return nil
}

// Failed returns the checks that did not pass (failed, errored or not run).
func (r *Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if c.Status != StatusPassed {
			out = append(out, c)
		}
	}
	return out
}

// decide sets Verdict and Pass from the checks: verified only when there
// are checks and every one passed.
func (r *Result) decide() {
	r.Verdict = VerdictVerified
	failed, errored := false, false
	for _, c := range r.Checks {
		switch c.Status {
		case StatusPassed:
		case StatusFailed:
			failed = true
		default:
			errored = true
		}
	}
	switch {
	case failed:
		r.Verdict = VerdictDenied
	case errored || len(r.Checks) == 0:
		r.Verdict = VerdictUndecided
	}
	r.Pass = r.Verdict == VerdictVerified || r.Mode == ModeWarn || r.Mode == ModeAudit
}

// Report is the JSON document of a run over several references.
type Report struct {
	SchemaVersion string        `json:"schemaVersion"`
	PolicyFile    string        `json:"policyFile,omitempty"`
	PolicyDigest  digest.Digest `json:"policyDigest,omitempty"`
	TrustDigest   digest.Digest `json:"trustDigest,omitempty"`
	Results       []*Result     `json:"results"`
}
