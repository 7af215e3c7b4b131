package verify

import (
	"fmt"
	"maps"
	"time"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"
	"github.com/opencontainers/go-digest"

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

// LayerRules constrain the artifact's layers.
type LayerRules struct {
	// RequirePolicy: the artifact must carry a permission policy layer
	// (which must parse).
	RequirePolicy bool
	// AllowUnknown accepts layers that are neither wasm nor policy.
	AllowUnknown bool
	// MaxBytes bounds each layer; 0 in the file means DefaultMaxLayerBytes.
	MaxBytes int64
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
	for _, a := range s.Authorities {
		out = append(out, a.Insecure...)
	}
	return out
}

// clone copies s deeply enough that changing the copy's slices, maps and
// authorities leaves s as it was (trust material itself is shared, and
// never changed).
func (s *Statement) clone() Statement {
	c := *s
	c.Scopes = append([]string(nil), s.Scopes...)
	c.scopeLines = append([][2]int(nil), s.scopeLines...)
	c.Authorities = make([]*Authority, len(s.Authorities))
	for i, a := range s.Authorities {
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
		c.Authorities[i] = &ac
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
