package cosign

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tlog"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// refusal is one complete sigstore-go verification that refused: under
// which root (and key), and sigstore-go's error.
type refusal struct {
	root     TrustedRoot
	material root.TrustedMaterial // key signatures: the key with the root's material
	key      *Key
	artifact verify.ArtifactPolicyOption
	err      error
}

// How far a signature got through sigstore-go's steps before the one
// that failed; of several refusals the furthest explains best (under a
// root that is not the signer's, a signature fails at its first step).
const (
	atWrongKey = iota // a key signature that does not verify with the key at all
	atTlog
	atTime
	atCertificate
	atSCT
	atSignature
	atIdentity
)

// explainKeyless names the reason sigstore-go refused a certificate
// signature under every root. It runs sigstore-go's own steps one by one
// to find the first that fails; it decides nothing.
func explainKeyless(entity verify.SignedEntity, check subjectCheck, refusals []refusal) error {
	best, bestAt := error(nil), -1
	for _, rf := range refusals {
		at, err := diagnoseKeyless(entity, check, rf)
		if at > bestAt {
			best, bestAt = err, at
		}
	}
	if best == nil {
		return ErrNoTrustedRoot
	}
	return best
}

func diagnoseKeyless(entity verify.SignedEntity, check subjectCheck, rf refusal) (int, error) {
	if idErr, ok := errorsAs[*verify.ErrNoMatchingCertificateIdentity](rf.err); ok {
		return atIdentity, fmt.Errorf("%w: %w", ErrIdentityMismatch, idErr)
	}
	v, err := verify.NewVerifier(rf.root.Material, rf.root.keylessOptions()...)
	if err != nil {
		return atTlog, fmt.Errorf("%w: %w", ErrNoTrustedRoot, err)
	}
	observed, at, err := diagnoseTime(entity, v, rf)
	if err != nil {
		return at, err
	}
	vc, err := entity.VerificationContent()
	if err != nil {
		return atCertificate, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	leaf := withoutOtherNameSAN(vc.Certificate())
	var chains [][]*x509.Certificate
	for _, t := range observed {
		if chains, err = verify.VerifyLeafCertificate(t.Timestamp, leaf, rf.root.Material); err != nil {
			return atCertificate, fmt.Errorf("%w at %s (%s): %w", ErrCertificateInvalid, t.Timestamp.UTC().Format(time.RFC3339), t.Type, err)
		}
	}
	if !rf.root.IgnoreSCTUnsafe {
		if err := verify.VerifySignedCertificateTimestamp(chains, 1, rf.root.Material); err != nil {
			return atSCT, fmt.Errorf("%w: %w", ErrSCTInvalid, err)
		}
	}
	return explainSignature(entity, check, rf.err)
}

// diagnoseTime runs sigstore-go's log and time steps: the log entries
// the root requires, then the observer timestamps its options require.
func diagnoseTime(entity verify.SignedEntity, v *verify.Verifier, rf refusal) ([]verify.TimestampVerificationResult, int, error) {
	entries, err := entity.TlogEntries()
	if err != nil {
		return nil, atTlog, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if n := rf.root.Tlogs(); len(entries) < n {
		return nil, atTlog, fmt.Errorf("%w: %d entries, %d required: %w", ErrMissingTlog, len(entries), n, rf.err)
	}
	logTimes, err := v.VerifyTransparencyLogInclusion(entity)
	if err != nil {
		if late := loggedOutsideCertificate(entity, entries); late != nil {
			return nil, atCertificate, fmt.Errorf("%w: %w: %w", ErrCertificateInvalid, late, err)
		}
		return nil, atTlog, fmt.Errorf("%w: %w", ErrTlogInvalid, err)
	}
	if ts, err := entity.Timestamps(); err != nil {
		return nil, atTime, fmt.Errorf("%w: %w", ErrMalformed, err)
	} else if len(ts) < rf.root.TimestampThreshold {
		return nil, atTime, fmt.Errorf("%w: %d timestamps, %d required", ErrMissingTimestamp, len(ts), rf.root.TimestampThreshold)
	}
	observed, err := v.VerifyObserverTimestamps(entity, logTimes)
	if err != nil {
		return nil, atTime, fmt.Errorf("%w: no verified time of signing (a Rekor v1 entry's integrated time or an RFC 3161 timestamp from a trusted TSA; Rekor v2 entries carry no time): %w", ErrMissingTimestamp, err)
	}
	return observed, atCertificate, nil
}

// loggedOutsideCertificate says which log entry has an integrated time
// outside the certificate's validity: a certificate used after it expired
// (sigstore-go refuses such an entry).
func loggedOutsideCertificate(entity verify.SignedEntity, entries []*tlog.Entry) error {
	vc, err := entity.VerificationContent()
	if err != nil || vc.Certificate() == nil {
		return nil
	}
	c := vc.Certificate()
	for _, e := range entries {
		if t := e.IntegratedTime(); !t.IsZero() && (t.Before(c.NotBefore) || t.After(c.NotAfter)) {
			return fmt.Errorf("logged at %s, outside the certificate's validity %s to %s", t.UTC().Format(time.RFC3339),
				c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// explainKey names the reason sigstore-go refused a key signature with
// every key (and root).
func explainKey(entity verify.SignedEntity, check subjectCheck, keys int, refusals []refusal) error {
	best, bestAt := error(nil), -1
	for _, rf := range refusals {
		at, err := diagnoseKey(entity, check, rf)
		if at > bestAt {
			best, bestAt = err, at
		}
	}
	switch {
	case best == nil:
		return ErrNoAuthority
	case (bestAt == atSignature || bestAt == atWrongKey) && keys > 1 && !isSubjectMismatch(best):
		return fmt.Errorf("with any of the %d trusted keys: %w", keys, best)
	}
	return best
}

func diagnoseKey(entity verify.SignedEntity, check subjectCheck, rf refusal) (int, error) {
	if rf.key == nil {
		return atTlog, rf.err
	}
	// The key first: with a key that did not sign, every later step
	// (the log entry names the signer's key) fails as a consequence.
	if km, err := keyMaterial(*rf.key); err == nil {
		if alone, err := verify.NewVerifier(km, verify.WithNoObserverTimestamps()); err == nil {
			if _, err := alone.Verify(entity, verify.NewPolicy(rf.artifact, verify.WithKey())); err != nil {
				_, why := explainSignature(entity, check, err)
				return atWrongKey, why
			}
		}
	}
	v, err := verify.NewVerifier(rf.material, keyOptions(optionalRoot(rf.root), *rf.key)...)
	if err != nil {
		return atTlog, fmt.Errorf("%w: %w", ErrNoTrustedRoot, err)
	}
	observed, at, err := diagnoseTime(entity, v, rf)
	if err != nil {
		return at, err
	}
	for _, t := range observed {
		if (!rf.key.ValidFrom.IsZero() && t.Timestamp.Before(rf.key.ValidFrom)) || (!rf.key.ValidUntil.IsZero() && t.Timestamp.After(rf.key.ValidUntil)) {
			return atCertificate, fmt.Errorf("%w: signed at %s (%s): %w", ErrKeyNotValid, t.Timestamp.UTC().Format(time.RFC3339), t.Type, rf.err)
		}
	}
	return explainSignature(entity, check, rf.err)
}

func optionalRoot(r TrustedRoot) *TrustedRoot {
	if r.Material == nil {
		return nil
	}
	return &r
}

// explainSignature: every step before the signature passed, so the
// signature is over another artifact or does not verify.
func explainSignature(entity verify.SignedEntity, check subjectCheck, libErr error) (int, error) {
	if check.explain != nil {
		if err := check.explain(entity); err != nil {
			return atSignature, err
		}
	}
	return atSignature, fmt.Errorf("%w: %w", ErrSignatureInvalid, libErr)
}

// withoutOtherNameSAN is leaf as sigstore-go checks its chain: Go does not
// handle an otherName SAN (Fulcio's username identities) and would refuse
// the critical extension, which sigstore-go summarizes itself. A copy, so
// that the entity's certificate stays as parsed.
func withoutOtherNameSAN(leaf *x509.Certificate) *x509.Certificate {
	c := *leaf
	c.UnhandledCriticalExtensions = nil
	for _, oid := range leaf.UnhandledCriticalExtensions {
		if !oid.Equal(cryptoutils.SANOID) {
			c.UnhandledCriticalExtensions = append(c.UnhandledCriticalExtensions, asn1.ObjectIdentifier(oid))
		}
	}
	return &c
}
