package cosign

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Format is one of cosign's two signature formats.
type Format string

const (
	FormatBundle Format = "bundle" // sigstore bundle referrer (cosign v3)
	FormatLegacy Format = "legacy" // the .sig tag (cosign v1/v2)
)

// Result is the verdict on one signature.
type Result struct {
	Referrer digest.Digest `json:"referrer,omitempty"`
	// Subject is the digest the signature was checked over.
	Subject  digest.Digest `json:"subject,omitempty"`
	Format   Format        `json:"format"`
	Layer    int           `json:"layer,omitempty"` // legacy: the payload layer
	Verified bool          `json:"verified"`
	// KeyID is the matching key's ID (hex SHA-256 of its DER), for key
	// signatures.
	KeyID string `json:"keyId,omitempty"`
	// Identity is the matching certificate identity, for keyless ones.
	Identity *Identity `json:"identity,omitempty"`
	// Root names the trusted root the signature verified under.
	Root       string      `json:"trustedRoot,omitempty"`
	LogEntries []LogEntry  `json:"logEntries,omitempty"`
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// Reason says why verification failed; Err is the typed error.
	Reason string `json:"reason,omitempty"`
	Err    error  `json:"-"`
	// Claimed is, for a refused signature, what it names as its signer:
	// read from the signature, never verified, and so never a reason to
	// accept; it tells which key or identity did sign (a wrong --key).
	Claimed *Signer `json:"claimedSigner,omitempty"`
}

// Signer is what a signature names as its signer: the key ID of a
// bundle's public-key hint (cosign's legacy signatures carry none), or
// the identity of its certificate.
type Signer struct {
	// KeyID is the hint as a key ID ([KeyID]'s form) when it is one (hex,
	// as wasmgate writes it, or base64, as cosign writes it); Hint is any
	// other hint, quoted and cut short.
	KeyID    string    `json:"keyId,omitempty"`
	Hint     string    `json:"hint,omitempty"`
	Identity *Identity `json:"identity,omitempty"`
}

// maxHint bounds a hint that is no key ID, as shown.
const maxHint = 64

// claimedSigner is what vc names as its signer, nil when nothing.
func claimedSigner(vc verify.VerificationContent) *Signer {
	if c := vc.Certificate(); c != nil {
		s, err := certificate.SummarizeCertificate(c)
		if err != nil {
			return nil
		}
		return &Signer{Identity: &Identity{SAN: s.SubjectAlternativeName, Issuer: s.Extensions.Issuer}}
	}
	pk := vc.PublicKey()
	if pk == nil || pk.Hint() == "" {
		return nil
	}
	hint := pk.Hint()
	if b, err := hex.DecodeString(hint); err == nil && len(b) == sha256.Size {
		return &Signer{KeyID: hex.EncodeToString(b)}
	}
	if b, err := base64.StdEncoding.DecodeString(hint); err == nil && len(b) == sha256.Size {
		return &Signer{KeyID: hex.EncodeToString(b)}
	}
	if len(hint) > maxHint {
		hint = hint[:maxHint] + "…"
	}
	return &Signer{Hint: strconv.Quote(hint)}
}

// LogEntry is a transparency-log entry a signature carried. A Rekor v2
// entry has no integrated time: its time, when a certificate needs one,
// comes from an RFC 3161 timestamp.
type LogEntry struct {
	LogIndex       int64     `json:"logIndex"`
	Kind           string    `json:"kind,omitempty"` // e.g. "hashedrekord 0.0.2"
	IntegratedTime time.Time `json:"integratedTime,omitzero"`
}

// Timestamp is a verified time of signing and what vouched for it.
type Timestamp struct {
	Type string    `json:"type"` // "Tlog" or "TimestampAuthority"
	Time time.Time `json:"time"`
}

func (r *Result) fail(err error) *Result {
	r.Verified, r.Err, r.Reason = false, err, err.Error()
	return r
}

// subjectCheck tells whether a signature is over the subject; it returns
// an error wrapping ErrSubjectMismatch when not.
type subjectCheck struct {
	// explain says why sigstore-go refused the artifact (the statement or
	// message digest names another one); it runs only after a refusal.
	explain func(verify.SignedEntity) error
	// require is a binding sigstore-go does not check (a legacy payload's
	// docker-manifest-digest); it runs only after sigstore-go accepted.
	require func(verify.SignedEntity) error
}

// verifyEntity verifies entity against auth. The decision is
// sigstore-go's: one complete Verifier.Verify per trusted key or root,
// with the options cosign uses (see TrustedRoot). wasmgate's own steps
// run only after a refusal, to name its reason (explain), or after an
// acceptance, for bindings sigstore-go does not know of (check.require,
// GitHub owner claims); they never turn a refusal into an acceptance.
func verifyEntity(entity verify.SignedEntity, artifact verify.ArtifactPolicyOption, check subjectCheck, auth Authority, r *Result) *Result {
	if err := auth.Validate(); err != nil {
		return r.fail(err)
	}
	vc, err := entity.VerificationContent()
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	defer func() {
		if !r.Verified {
			r.Claimed = claimedSigner(vc)
		}
	}()
	entries, err := entity.TlogEntries()
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	for _, e := range entries {
		le := LogEntry{LogIndex: e.LogIndex()}
		if kv := e.TransparencyLogEntry().GetKindVersion(); kv != nil {
			le.Kind = kv.GetKind() + " " + kv.GetVersion()
		}
		if t := e.IntegratedTime(); !t.IsZero() {
			le.IntegratedTime = t.UTC()
		}
		r.LogEntries = append(r.LogEntries, le)
	}
	if vc.Certificate() != nil {
		if len(auth.Identities) == 0 {
			return r.fail(fmt.Errorf("%w: a keyless (certificate) signature, and the authority trusts only keys", ErrKindMismatch))
		}
		r = verifyKeyless(entity, artifact, check, auth, r)
	} else {
		if len(auth.Keys) == 0 {
			return r.fail(fmt.Errorf("%w: a key signature, and the authority trusts only keyless identities", ErrKindMismatch))
		}
		r = verifyKey(entity, artifact, check, auth, r)
	}
	if r.Verified && check.require != nil {
		if err := check.require(entity); err != nil {
			return r.fail(err)
		}
	}
	return r
}

func verifyKeyless(entity verify.SignedEntity, artifact verify.ArtifactPolicyOption, check subjectCheck, auth Authority, r *Result) *Result {
	var policy []verify.PolicyOption
	ids := make([]verify.CertificateIdentity, len(auth.Identities))
	for i, id := range auth.Identities {
		ci, err := id.certificateIdentity()
		if err != nil {
			return r.fail(fmt.Errorf("%w: identity %d: %w", ErrNoAuthority, i+1, err))
		}
		ids[i] = ci
		policy = append(policy, verify.WithCertificateIdentity(ci))
	}
	var refusals []refusal
	for _, tr := range auth.Roots {
		v, err := verify.NewVerifier(tr.Material, tr.keylessOptions()...)
		if err != nil {
			return r.fail(fmt.Errorf("%w: %w", ErrNoTrustedRoot, err))
		}
		res, err := v.Verify(entity, verify.NewPolicy(artifact, policy...))
		if err != nil {
			refusals = append(refusals, refusal{root: tr, err: err})
			continue
		}
		c := res.Signature.Certificate
		matched := -1
		var claimErr error
		for i, id := range auth.Identities {
			if ids[i].Verify(*c) != nil {
				continue
			}
			if claimErr = id.GitHub.check(*c); claimErr == nil {
				matched = i
				break
			}
		}
		if matched < 0 {
			if claimErr == nil { // sigstore-go matched an identity our own check does not: refuse, never guess
				claimErr = fmt.Errorf("%w: no identity matches the certificate", ErrIdentityMismatch)
			}
			return r.fail(claimErr)
		}
		r.Verified, r.Root, r.Timestamps = true, tr.Name, timestamps(res)
		r.Identity = &Identity{Issuer: c.Issuer, SAN: c.SubjectAlternativeName}
		return r
	}
	return r.fail(explainKeyless(entity, check, refusals))
}

func verifyKey(entity verify.SignedEntity, artifact verify.ArtifactPolicyOption, check subjectCheck, auth Authority, r *Result) *Result {
	roots := make([]*TrustedRoot, 0, len(auth.Roots))
	for i := range auth.Roots {
		roots = append(roots, &auth.Roots[i])
	}
	if len(roots) == 0 {
		roots = append(roots, nil)
	}
	var refusals []refusal
	for _, key := range auth.Keys {
		km, err := keyMaterial(key)
		if err != nil {
			refusals = append(refusals, refusal{err: err})
			continue
		}
		for _, tr := range roots {
			tm, name := km, ""
			if tr != nil {
				tm, name = root.TrustedMaterialCollection{km, tr.Material}, tr.Name
			}
			v, err := verify.NewVerifier(tm, keyOptions(tr, key)...)
			if err != nil {
				return r.fail(fmt.Errorf("%w: %w", ErrNoTrustedRoot, err))
			}
			res, err := v.Verify(entity, verify.NewPolicy(artifact, verify.WithKey()))
			if err != nil {
				refusals = append(refusals, refusal{root: derefRoot(tr), material: tm, key: &key, artifact: artifact, err: err})
				continue
			}
			r.Verified, r.KeyID, r.Root, r.Timestamps = true, KeyID(key.Public), name, timestamps(res)
			return r
		}
	}
	return r.fail(explainKey(entity, check, len(auth.Keys), refusals))
}

func derefRoot(tr *TrustedRoot) TrustedRoot {
	if tr == nil {
		return TrustedRoot{Name: "", IgnoreTlogUnsafe: true}
	}
	return *tr
}

func timestamps(res *verify.VerificationResult) []Timestamp {
	var out []Timestamp
	for _, t := range res.VerifiedTimestamps {
		out = append(out, Timestamp{Type: t.Type, Time: t.Timestamp.UTC()})
	}
	return out
}

// errorsAs is errors.As for a pointer target, for brevity in explain.
func errorsAs[T error](err error) (T, bool) {
	var t T
	ok := errors.As(err, &t)
	return t, ok
}
