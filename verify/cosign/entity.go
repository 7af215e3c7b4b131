package cosign

import (
	"errors"
	"fmt"
	"time"

	"github.com/opencontainers/go-digest"
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
	Format   Format        `json:"format"`
	Layer    int           `json:"layer,omitempty"` // legacy: the payload layer
	Verified bool          `json:"verified"`
	// KeyID is the matching key's ID (hex SHA-256 of its DER), for key
	// signatures.
	KeyID string `json:"keyId,omitempty"`
	// Identity is the matching certificate identity, for keyless ones.
	Identity   *Identity   `json:"identity,omitempty"`
	LogEntries []LogEntry  `json:"logEntries,omitempty"`
	Timestamps []Timestamp `json:"timestamps,omitempty"`
	// Reason says why verification failed; Err is the typed error.
	Reason string `json:"reason,omitempty"`
	Err    error  `json:"-"`
}

// LogEntry is a transparency-log entry a signature carried.
type LogEntry struct {
	LogIndex       int64     `json:"logIndex"`
	IntegratedTime time.Time `json:"integratedTime"`
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
type subjectCheck func(verify.SignedEntity) error

// verifyEntity verifies entity against auth: its form, its binding to the
// subject (check), then the log entries, timestamps, certificate and
// signature through sigstore-go, step by step so that a failure has its
// own reason. artifact is the sigstore-go artifact policy.
func verifyEntity(entity verify.SignedEntity, artifact verify.ArtifactPolicyOption, check subjectCheck, auth Authority, r *Result) *Result {
	if err := auth.validate(); err != nil {
		return r.fail(err)
	}
	vc, err := entity.VerificationContent()
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	entries, err := entity.TlogEntries()
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err))
	}
	for _, e := range entries {
		r.LogEntries = append(r.LogEntries, LogEntry{LogIndex: e.LogIndex(), IntegratedTime: e.IntegratedTime().UTC()})
	}
	if len(entries) < auth.TlogThreshold {
		return r.fail(fmt.Errorf("%w: %d entries, %d required", ErrMissingTlog, len(entries), auth.TlogThreshold))
	}
	if ts, err := entity.Timestamps(); err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMalformed, err))
	} else if len(ts) < auth.TimestampThreshold {
		return r.fail(fmt.Errorf("%w: %d timestamps, %d required", ErrMissingTimestamp, len(ts), auth.TimestampThreshold))
	}
	if err := check(entity); err != nil {
		return r.fail(err)
	}
	if cert := vc.Certificate(); cert != nil {
		return verifyKeyless(entity, artifact, auth, r)
	}
	return verifyKey(entity, artifact, auth, r)
}

func verifyKeyless(entity verify.SignedEntity, artifact verify.ArtifactPolicyOption, auth Authority, r *Result) *Result {
	if len(auth.Identities) == 0 {
		return r.fail(fmt.Errorf("%w: a keyless (certificate) signature, and the authority trusts only keys", ErrKindMismatch))
	}
	tm := auth.TrustedRoot
	v, err := verify.NewVerifier(tm, auth.verifierOptions(true)...)
	if err != nil {
		return r.fail(err)
	}
	// Time first: every log entry and signed timestamp that fixes when
	// the certificate was used must verify, and the certificate must be
	// valid at each of those times (the spec: "if either fails,
	// verification fails").
	if _, err := v.VerifyTransparencyLogInclusion(entity); err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrTlogInvalid, err))
	}
	entries, _ := entity.TlogEntries()
	var times []time.Time
	for _, e := range entries {
		times = append(times, e.IntegratedTime())
	}
	tsa, _, err := verify.VerifySignedTimestamp(entity, tm)
	if err != nil {
		return r.fail(fmt.Errorf("%w: %w", ErrMissingTimestamp, err))
	}
	for _, t := range tsa {
		times = append(times, t.Time)
	}
	if len(times) == 0 {
		return r.fail(fmt.Errorf("%w: a certificate signature needs a log entry or a signed timestamp to fix its time", ErrMissingTimestamp))
	}
	vc, _ := entity.VerificationContent()
	for _, t := range times {
		if _, err := verify.VerifyLeafCertificate(t, vc.Certificate(), tm); err != nil {
			return r.fail(fmt.Errorf("%w at %s: %w", ErrCertificateInvalid, t.UTC().Format(time.RFC3339), err))
		}
	}
	policy := []verify.PolicyOption{}
	for _, id := range auth.Identities {
		ci, err := id.certificateIdentity()
		if err != nil {
			return r.fail(err)
		}
		policy = append(policy, verify.WithCertificateIdentity(ci))
	}
	res, err := v.Verify(entity, verify.NewPolicy(artifact, policy...))
	if err != nil {
		var idErr *verify.ErrNoMatchingCertificateIdentity
		if errors.As(err, &idErr) {
			return r.fail(fmt.Errorf("%w: %w", ErrIdentityMismatch, err))
		}
		return r.fail(fmt.Errorf("%w: %w", ErrSignatureInvalid, err))
	}
	r.Verified = true
	if c := res.Signature.Certificate; c != nil {
		r.Identity = &Identity{Issuer: c.Issuer, SAN: c.SubjectAlternativeName}
	}
	r.Timestamps = timestamps(res)
	return r
}

func verifyKey(entity verify.SignedEntity, artifact verify.ArtifactPolicyOption, auth Authority, r *Result) *Result {
	if len(auth.Keys) == 0 {
		return r.fail(fmt.Errorf("%w: a key signature, and the authority trusts only keyless identities", ErrKindMismatch))
	}
	var last error
	for _, key := range auth.Keys {
		km, err := keyMaterial(key)
		if err != nil {
			last = err
			continue
		}
		var tm root.TrustedMaterial = km
		if auth.TrustedRoot != nil {
			tm = root.TrustedMaterialCollection{km, auth.TrustedRoot}
		}
		v, err := verify.NewVerifier(tm, auth.verifierOptions(false)...)
		if err != nil {
			return r.fail(err)
		}
		if auth.TlogThreshold > 0 {
			if _, err := v.VerifyTransparencyLogInclusion(entity); err != nil {
				return r.fail(fmt.Errorf("%w: %w", ErrTlogInvalid, err))
			}
		}
		res, err := v.Verify(entity, verify.NewPolicy(artifact, verify.WithKey()))
		if err != nil {
			last = err
			continue
		}
		r.Verified, r.KeyID, r.Timestamps = true, KeyID(key), timestamps(res)
		return r
	}
	if errors.Is(last, ErrKindMismatch) {
		return r.fail(last)
	}
	return r.fail(fmt.Errorf("%w with any of the %d trusted keys: %w", ErrSignatureInvalid, len(auth.Keys), last))
}

func timestamps(res *verify.VerificationResult) []Timestamp {
	var out []Timestamp
	for _, t := range res.VerifiedTimestamps {
		out = append(out, Timestamp{Type: t.Type, Time: t.Timestamp.UTC()})
	}
	return out
}
