package verify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors of the trust policy and the pipeline. Callers branch on
// them with errors.Is; positions and details are in the typed errors below.
var (
	// ErrPolicySyntax: the trust policy is not well-formed YAML.
	ErrPolicySyntax = errors.New("trust policy is not well-formed YAML")
	// ErrPolicyUnknownField: a key the format does not define.
	ErrPolicyUnknownField = errors.New("unknown trust policy field")
	// ErrPolicyInvalid: the policy breaks the format or contradicts itself
	// (a threshold above its authorities, two scopes of equal specificity,
	// a CEL condition that does not compile, ...).
	ErrPolicyInvalid = errors.New("invalid trust policy")
	// ErrTrustMaterial: a key, trusted root or Notation trust file the
	// policy names cannot be read or is not what it should be.
	ErrTrustMaterial = errors.New("trust material cannot be loaded")

	// ErrNoScope: no statement of the policy covers the repository;
	// the artifact is denied.
	ErrNoScope = errors.New("no trust policy statement covers the repository")
	// ErrNotPinned: the statement requires a reference pinned by digest.
	ErrNotPinned = errors.New("reference is not pinned by digest")
	// ErrLayers: the manifest's layers break the statement's layer rules.
	ErrLayers = errors.New("layers break the policy")
	// ErrArtifactKind: the subject is of a kind (a container image, an
	// index, another artifact) the statement's artifacts do not accept.
	ErrArtifactKind = errors.New("kind of artifact not accepted by the policy")
	// ErrPlatform: a platform manifest of an image index failed what
	// platforms: each requires of it.
	ErrPlatform = errors.New("platform manifest not verified")
	// ErrThreshold: fewer distinct authorities signed than required.
	ErrThreshold = errors.New("signature threshold not met")
	// ErrAttestation: a required attestation is missing or failed.
	ErrAttestation = errors.New("required attestation not satisfied")
	// ErrLayout: a required in-toto layout is missing or failed; the
	// error wraps evidence/intoto's reason too (intoto.ErrLayoutExpired,
	// intoto.ErrLinkThreshold, ...). With intoto.ErrInspections the check
	// is undecided, not failed: wasmgate does not run inspections.
	ErrLayout = errors.New("required in-toto layout not satisfied")
	// ErrUnsupportedReference: the reference names no OCI artifact
	// (a local file or an https URL), which carries no referrers.
	ErrUnsupportedReference = errors.New("reference cannot be verified")
	// ErrPolicyConflict: two policy referrers that count (each signed by
	// an authority allowed to sign policies) hold different policies;
	// neither is used, and they are never merged. A *PolicyConflictError
	// says which.
	ErrPolicyConflict = errors.New("signed permission policies disagree")
	// ErrPolicyReferrer: a policy referrer signed by an authority allowed
	// to sign policies is not a valid permission policy (the error wraps
	// package permissions' too), or there are more policy referrers than
	// MaxPolicyReferrers.
	ErrPolicyReferrer = errors.New("policy referrer refused")
	// ErrNotVerified: the artifact was not verified (Verifier.Fetch).
	ErrNotVerified = errors.New("artifact not verified")
	// ErrNoSuchComponent: Verifier.FetchComponent named a component that
	// the verified artifact does not have: not a component of its Spin
	// application, or the artifact is not a Spin application. A
	// *ComponentError lists the ids there are. The verification itself
	// stands (the Result says so); only the choice is wrong.
	ErrNoSuchComponent = errors.New("no such component")
)

// ErrMultipleComponents: Verifier.Fetch of a Spin application of several
// components, which hands out one module: FetchComponent names the one
// to take. A *ComponentError lists the ids. It wraps ErrLayers: the
// layers check of Fetch fails, as it always has for such an application.
var ErrMultipleComponents = fmt.Errorf("%w: a Spin application of several components", ErrLayers)

// ComponentError is a refusal to pick one component of a Spin
// application: none was named and there are several
// (ErrMultipleComponents), or the one named is not there
// (ErrNoSuchComponent). IDs are the application's component ids in its
// locked application's order; nil when the artifact is not a Spin
// application.
type ComponentError struct {
	Reference string // the pinned reference; empty inside the layers check
	Name      string // the component asked for; "" with ErrMultipleComponents
	IDs       []string
	Err       error
}

func (e *ComponentError) Error() string {
	var b strings.Builder
	if e.Reference != "" {
		b.WriteString(e.Reference + ": ")
	}
	switch {
	case errors.Is(e.Err, ErrMultipleComponents):
		fmt.Fprintf(&b, "%s: a Spin application of %d components (%s); one core module is handed out and run: name one with --component (Verifier.FetchComponent)",
			ErrLayers, len(e.IDs), strings.Join(e.IDs, ", "))
	case e.IDs == nil:
		fmt.Fprintf(&b, "%s %q: not a Spin application; --component names a component of one", e.Err, e.Name)
	default:
		fmt.Fprintf(&b, "%s %q: the application's components are %s", e.Err, e.Name, strings.Join(e.IDs, ", "))
	}
	return b.String()
}

func (e *ComponentError) Unwrap() error { return e.Err }

// ErrPermissionPolicy: the document is a permission policy (Wassette's
// version "1.0" with permissions:), the other kind of policy file, not a
// trust policy. ParsePolicy returns it in a *PolicyError before looking at
// any field. It wraps ErrPolicyInvalid, which it is too.
var ErrPermissionPolicy = fmt.Errorf("%w: a permission policy, not a trust policy", ErrPolicyInvalid)

// ErrNoPermissionPolicy: the statement requires a permission policy
// (layers.requirePolicy) and the artifact has no policy layer and no
// policy referrer that counts. It wraps ErrLayers, which a missing policy
// layer has always been.
var ErrNoPermissionPolicy = fmt.Errorf("%w: no permission policy", ErrLayers)

// PolicyConflictError: the policy referrers of Subject that count do not
// hold the same policy. Referrers are their manifest digests and Policies
// the digests of their policies, in the same order.
type PolicyConflictError struct {
	Subject   string
	Referrers []digest.Digest
	Policies  []digest.Digest
}

func (e *PolicyConflictError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d signed policy referrers of %s hold different policies (", ErrPolicyConflict, len(e.Referrers), e.Subject)
	for i := range e.Referrers {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: policy %s", e.Referrers[i], e.Policies[i])
	}
	b.WriteString("); none is used: remove the stale referrer, or stop signing it")
	return b.String()
}

func (e *PolicyConflictError) Unwrap() error { return ErrPolicyConflict }

// PolicyError says where and why a trust policy was rejected. It wraps one
// of ErrPolicySyntax, ErrPolicyUnknownField, ErrPolicyInvalid or
// ErrTrustMaterial and, when there is one, the cause (a parser's error, a
// file system error).
type PolicyError struct {
	File         string // the policy file; empty when parsed from bytes
	Field        string // e.g. "policies[0].signatures.threshold"
	Line, Column int    // 1-based; 0 when unknown
	Reason       string
	Err          error
	Cause        error
}

func (e *PolicyError) Error() string {
	var b strings.Builder
	b.WriteString("trust policy")
	if e.File != "" {
		b.WriteString(" " + e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", e.Line, e.Column)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Reason)
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the sentinel and the cause, so errors.Is matches either.
func (e *PolicyError) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// ReferenceError is a failure of the pipeline on one reference: it could
// not decide (registry, network, time) or the reference cannot be
// verified. Err is the cause, from package artifact, remote or referrers.
type ReferenceError struct {
	Op        string // "resolve", "layers", "discover", "cosign", "notation", "attestation"
	Reference string
	Err       error
}

func (e *ReferenceError) Error() string {
	return "verify " + e.Reference + ": " + e.Op + ": " + e.Err.Error()
}

func (e *ReferenceError) Unwrap() error { return e.Err }
