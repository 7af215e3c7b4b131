package verify

import (
	"fmt"
	"maps"
	"strings"
	"time"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/evidence/notation"
)

// PolicyVersion is the only trust policy format version.
const PolicyVersion = "v1"

// Defaults of a statement's layer rules.
const (
	// DefaultMaxLayerBytes bounds each layer when layers.maxBytes is not
	// set: far above real wasm modules, far below what could exhaust a
	// machine.
	DefaultMaxLayerBytes = 256 << 20
	// MaxPolicyBytes is the largest trust policy file read.
	MaxPolicyBytes = 1 << 20
	// maxTrustFileBytes bounds each key, root and Notation file read.
	maxTrustFileBytes = 4 << 20
)

// Mode is what a statement does with a denial.
type Mode string

const (
	// ModeEnforce: a denied artifact fails (the default).
	ModeEnforce Mode = "enforce"
	// ModeWarn: a denied artifact passes, with a warning printed.
	ModeWarn Mode = "warn"
	// ModeAudit: a denied artifact passes silently; the result records
	// the denial for whoever reads it.
	ModeAudit Mode = "audit"
)

// AuthorityKind is the kind of signature an authority checks.
type AuthorityKind string

const (
	KindCosignKey     AuthorityKind = "cosign-key"
	KindCosignKeyless AuthorityKind = "cosign-keyless"
	KindNotation      AuthorityKind = "notation"
)

// Policy is a trust policy with its trust material loaded, validated as a
// whole. It is closed: only LoadPolicy, ParsePolicy, NewPolicy and
// OneOffPolicy build one, and it cannot change after; it is safe for
// concurrent use. The zero Policy is refused by New.
type Policy struct {
	statements  []*Statement
	file        string
	digest      digest.Digest
	trustDigest digest.Digest
}

// Statements are copies of the policy's statements, in order.
func (p *Policy) Statements() []Statement {
	out := make([]Statement, len(p.statements))
	for i, s := range p.statements {
		out[i] = s.clone()
	}
	return out
}

// File is where the policy was read from ("" when parsed from bytes or
// built in Go).
func (p *Policy) File() string { return p.file }

// Digest is the SHA-256 of the policy file's bytes ("" for a policy built
// in Go); TrustDigest covers every file and trust root the policy loaded
// (keys, trusted roots, TUF targets, Notation trust policy and store).
// Together they identify what a verdict was reached under.
func (p *Policy) Digest() digest.Digest { return p.digest }

// TrustDigest: see Digest.
func (p *Policy) TrustDigest() digest.Digest { return p.trustDigest }

// Statement is one entry of the policy: the repositories it covers and
// what their artifacts must show.
type Statement struct {
	Name   string
	Scopes []string
	// Threshold distinct Authorities must each have verified a signature.
	// 0 (only in a Statement built in Go) checks no signature: the
	// authorities then only sign attestations.
	Threshold   int
	Authorities []*Authority
	// Attestations are required, each on its own.
	Attestations []*AttestationRule
	// Layouts are required in-toto supply-chain layouts, each on its own.
	Layouts []*LayoutRule
	Layers  LayerRules
	// PermissionPolicy, when set, lets a wasm artifact without a policy
	// layer take its permission policy from a signed referrer; nil reads
	// no policy referrer.
	PermissionPolicy *PermissionPolicyRule
	// Artifacts are the kinds of subject the statement accepts; empty
	// (the default of a file that does not say) is [ArtifactWasm] alone,
	// so that a policy written for wasm never passes anything else. A
	// subject of another kind is denied, naming this field.
	Artifacts []ArtifactKind
	// Platforms says whose signatures an image index must carry; "" is
	// PlatformsIndex.
	Platforms Platforms
	// RequireDigest refuses references not pinned by digest.
	RequireDigest bool
	// Mode is what a denial does; "" is ModeEnforce.
	Mode Mode
	// AllowUnsignedUnsafe lets a statement require no signature and no
	// attestation (allowUnsigned: true in a file): an unsigned artifact
	// then passes it. Without it such a statement is refused, so that a
	// policy cannot mean "nothing" by accident; with it, every result says
	// so as insecure.
	AllowUnsignedUnsafe bool
	// Line is where the statement starts in the file.
	Line       int
	scopeLines [][2]int
}

// Authority is one party whose signature counts towards the threshold.
type Authority struct {
	Name string
	Kind AuthorityKind
	// Cosign is set for the cosign kinds.
	Cosign *cosign.Authority
	// Notation is set for KindNotation.
	Notation *NotationAuthority
	// Insecure lists what this authority gives up (no transparency log),
	// as the policy asked; results print it.
	Insecure []string
	// Warnings say how its trust material was obtained when a user should
	// know (offline, from a cache or an embedded snapshot).
	Warnings []string
	// Description is the authority in words (key ID, identity, trust policy).
	Description string
}

// NotationAuthority is a Notation trust policy and store.
type NotationAuthority struct {
	Trust *notation.Trust
	// Scope, when set, selects the Notation trust policy statement instead
	// of the artifact's repository.
	Scope        string
	UserMetadata map[string]string
}

// AttestationRule is a required in-toto attestation.
type AttestationRule struct {
	PredicateType string
	// SignedBy names the authorities whose signature makes an attestation
	// count; any one of them is enough. Empty in the file means every
	// authority of the statement.
	SignedBy   []string
	Conditions []*attest.Condition
	MaxAge     time.Duration
	MinCount   int
}

// PermissionPolicyRule says who may sign a permission policy attached to a
// wasm artifact as a referrer (evidence.ArtifactTypeWasmPolicy): wkg and
// the CNCF TAG wasm layout allow a single layer, so a publisher cannot
// add a policy layer without breaking other tools. A policy layer, when
// the artifact has one, is the policy and no referrer is read. Otherwise
// a policy referrer counts when one of SignedBy verified a signature of
// the referrer's manifest; exactly one policy (or several byte-identical
// ones) is used, and two that disagree are refused, never merged.
// Layers.RequirePolicy is then met by either.
type PermissionPolicyRule struct {
	// SignedBy names the authorities, of signatures.authorities or of
	// Authorities, whose signature makes a policy referrer count; any one
	// of them is enough. It is never empty.
	SignedBy []string
	// Authorities sign policies only (a host operator's, say): they never
	// count towards the signature threshold and sign no attestation.
	Authorities []*Authority
}

// policyAuthority returns the authority called name of the statement or
// of its permission policy rule.
func (s *Statement) policyAuthority(name string) *Authority {
	if a := s.authority(name); a != nil {
		return a
	}
	if s.PermissionPolicy != nil {
		for _, a := range s.PermissionPolicy.Authorities {
			if a.Name == name {
				return a
			}
		}
	}
	return nil
}

// LayoutProduct is the digest of the artifact that must be a final
// product of a required in-toto layout.
type LayoutProduct string

const (
	// ProductWasm: the wasm layer's digest (the default).
	ProductWasm LayoutProduct = "wasm"
	// ProductManifest: the manifest's digest, for a supply chain whose
	// last step pushes the artifact.
	ProductManifest LayoutProduct = "manifest"
)

// LayoutRule is a required in-toto supply-chain layout, attached to the
// artifact as a referrer (evidence.ArtifactTypeInTotoLayout) with its
// links (evidence.ArtifactTypeInTotoLink): it is met when one layout
// referrer verifies with Keys and the links attached, and one of its final
// products has the Product digest (see intoto.VerifyLayoutFor).
type LayoutRule struct {
	// Name labels the requirement in results; "" means "layouts[i]", its
	// place in the statement.
	Name string
	// Keys are the layout owner's public keys (intoto.ParseKey): as in
	// in-toto, every one of them must have signed the layout.
	Keys []in_toto.Key
	// Product is which digest must be a final product; "" is ProductWasm.
	Product LayoutProduct
}

// KeyIDs are the in-toto key IDs of the rule's keys, in order.
func (r *LayoutRule) KeyIDs() []string {
	ids := make([]string, len(r.Keys))
	for i, k := range r.Keys {
		ids[i] = k.KeyID
	}
	return ids
}

// ArtifactKind names the kinds of subject a statement accepts.
type ArtifactKind string

const (
	// ArtifactWasm: a wasm artifact; the layer rules, the permission
	// policy layer and the loader apply (the default).
	ArtifactWasm ArtifactKind = "wasm"
	// ArtifactImage: a container image (an image manifest with an OCI
	// image config and no artifactType).
	ArtifactImage ArtifactKind = "image"
	// ArtifactIndex: an image index (a multi-platform image).
	ArtifactIndex ArtifactKind = "index"
	// ArtifactOther: any other image manifest: Helm charts, SBOMs, OCI
	// 1.1 artifacts of any type.
	ArtifactOther ArtifactKind = "artifact"
	// ArtifactAny: every kind above.
	ArtifactAny ArtifactKind = "any"
)

// ArtifactKinds is the closed set a statement's artifacts are drawn from.
func ArtifactKinds() []ArtifactKind {
	return []ArtifactKind{ArtifactWasm, ArtifactImage, ArtifactIndex, ArtifactOther, ArtifactAny}
}

// Platforms says whose signatures an image index must carry.
type Platforms string

const (
	// PlatformsIndex: the index's own (the default): a signature of the
	// index covers the digest of every platform manifest it lists.
	PlatformsIndex Platforms = "index"
	// PlatformsEach: the index's, and each platform manifest's too (at
	// most MaxPlatforms of them): the signature threshold is checked on
	// every one, its manifest and layers as a subject's.
	PlatformsEach Platforms = "each"
)

// MaxPlatforms bounds the platform manifests of an index checked under
// PlatformsEach: an index that lists more is denied.
const MaxPlatforms = 64

// accepts reports whether the statement accepts a subject of kind k.
func (s *Statement) accepts(k artifact.SubjectKind) bool {
	kinds := s.Artifacts
	if len(kinds) == 0 {
		kinds = []ArtifactKind{ArtifactWasm}
	}
	for _, a := range kinds {
		if a == ArtifactAny || string(a) == string(k) {
			return true
		}
	}
	return false
}

// wasmOnly: the statement's scope holds wasm artifacts only.
func (s *Statement) wasmOnly() bool { return !s.acceptsOther() }

// acceptsOther: the statement accepts some subject that is not wasm.
func (s *Statement) acceptsOther() bool {
	for _, k := range artifact.SubjectKinds() {
		if k != artifact.SubjectWasm && s.accepts(k) {
			return true
		}
	}
	return false
}

// artifactsText is the statement's artifacts as a file writes them.
func (s *Statement) artifactsText() string {
	kinds := s.Artifacts
	if len(kinds) == 0 {
		kinds = []ArtifactKind{ArtifactWasm}
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return "[" + strings.Join(names, ", ") + "]"
}

// LayerRules constrain the artifact's layers.
type LayerRules struct {
	// RequirePolicy: the artifact must carry a permission policy layer
	// (which must parse).
	RequirePolicy bool
	// AllowUnknown accepts layers that are neither wasm nor policy.
	AllowUnknown bool
	// MaxBytes bounds each layer; 0 in the file means DefaultMaxLayerBytes.
	MaxBytes int64
	// SkipDigestsUnsafe (digests: skip in a file) leaves the layers of a
	// subject that is not wasm unread: their declared sizes are still
	// bounded by MaxBytes, the config is still checked, and every result
	// says so as insecure. A wasm artifact's layers are always checked:
	// they are what a host runs.
	SkipDigestsUnsafe bool
}

// requiresEvidence: some signature, attestation or layout must verify.
func (s *Statement) requiresEvidence() bool {
	return s.Threshold > 0 || len(s.Attestations) > 0 || len(s.Layouts) > 0
}

// insecure is what the statement gives up, as every result reports it.
func (s *Statement) insecure() []string {
	var out []string
	if s.AllowUnsignedUnsafe && !s.requiresEvidence() {
		out = append(out, s.Name+": allowUnsigned: no signature and no attestation required; an unsigned artifact passes")
	}
	if s.Layers.SkipDigestsUnsafe {
		out = append(out, s.Name+": layers.digests: skip: the layers of a subject that is not wasm are not read, their digests not checked")
	}
	for _, a := range s.Authorities {
		out = append(out, a.Insecure...)
	}
	if s.PermissionPolicy != nil {
		for _, a := range s.PermissionPolicy.Authorities {
			out = append(out, a.Insecure...)
		}
	}
	return out
}

// clone copies s deeply enough that changing the copy's slices, maps and
// authorities leaves s as it was (trust material itself is shared, and
// never changed).
func (s *Statement) clone() Statement {
	c := *s
	c.Scopes = append([]string(nil), s.Scopes...)
	c.Artifacts = append([]ArtifactKind(nil), s.Artifacts...)
	c.scopeLines = append([][2]int(nil), s.scopeLines...)
	c.Authorities = cloneAuthorities(s.Authorities)
	if s.PermissionPolicy != nil {
		c.PermissionPolicy = &PermissionPolicyRule{SignedBy: append([]string(nil), s.PermissionPolicy.SignedBy...),
			Authorities: cloneAuthorities(s.PermissionPolicy.Authorities)}
	}
	c.Attestations = make([]*AttestationRule, len(s.Attestations))
	for i, r := range s.Attestations {
		rc := *r
		rc.SignedBy = append([]string(nil), r.SignedBy...)
		rc.Conditions = append([]*attest.Condition(nil), r.Conditions...)
		c.Attestations[i] = &rc
	}
	c.Layouts = make([]*LayoutRule, len(s.Layouts))
	for i, r := range s.Layouts {
		if r == nil {
			continue // refused by validate
		}
		rc := *r
		rc.Keys = append([]in_toto.Key(nil), r.Keys...)
		c.Layouts[i] = &rc
	}
	return c
}

func cloneAuthorities(as []*Authority) []*Authority {
	out := make([]*Authority, len(as))
	for i, a := range as {
		if a == nil {
			continue // refused by validate
		}
		ac := *a
		ac.Insecure = append([]string(nil), a.Insecure...)
		ac.Warnings = append([]string(nil), a.Warnings...)
		if a.Cosign != nil {
			cc := *a.Cosign
			cc.Keys = append([]cosign.Key(nil), a.Cosign.Keys...)
			cc.Identities = append([]cosign.Identity(nil), a.Cosign.Identities...)
			cc.Roots = append([]cosign.TrustedRoot(nil), a.Cosign.Roots...)
			ac.Cosign = &cc
		}
		if a.Notation != nil {
			nc := *a.Notation
			nc.UserMetadata = maps.Clone(a.Notation.UserMetadata)
			ac.Notation = &nc
		}
		out[i] = &ac
	}
	return out
}

// statement returns the statement called name, or nil.
func (p *Policy) statement(name string) *Statement {
	for _, s := range p.statements {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// authority returns the statement's authority called name.
func (s *Statement) authority(name string) *Authority {
	for _, a := range s.Authorities {
		if a.Name == name {
			return a
		}
	}
	return nil
}

func (s *Statement) String() string {
	return fmt.Sprintf("%s (line %d)", s.Name, s.Line)
}
