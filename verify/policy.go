package verify

import (
	"fmt"
	"time"

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

// Policy is a parsed trust policy with its trust material loaded. It is
// immutable and safe for concurrent use; build one with LoadPolicy or
// ParsePolicy.
type Policy struct {
	Statements []*Statement
	// File is where the policy was read from ("" when parsed from bytes).
	File string
	// Digest is the SHA-256 of the policy bytes; TrustDigest covers every
	// file of trust material the policy loaded (keys, roots, Notation
	// trust policy and store). Together they identify what a verdict was
	// reached under.
	Digest      digest.Digest
	TrustDigest digest.Digest
}

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
	Layers       LayerRules
	// RequireDigest refuses references not pinned by digest.
	RequireDigest bool
	Mode          Mode
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
