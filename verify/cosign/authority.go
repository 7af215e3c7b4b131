package cosign

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Identity is a keyless signer: the OIDC issuer and the certificate's
// subject alternative name, each exact or a regular expression (set one
// of each pair).
type Identity struct {
	Issuer       string `json:"issuer,omitempty"`
	IssuerRegexp string `json:"issuerRegexp,omitempty"`
	SAN          string `json:"san,omitempty"`
	SANRegexp    string `json:"sanRegexp,omitempty"`
}

// Authority is who may sign, and what evidence of time and publication a
// signature must carry. Security inputs have no defaults: an empty
// Authority is an error.
type Authority struct {
	// Keys are trusted public keys (cosign.pub files).
	Keys []crypto.PublicKey
	// Identities are trusted keyless signers; they need TrustedRoot.
	Identities []Identity
	// TrustedRoot holds Fulcio roots, Rekor and CT log keys and TSA
	// certificates (a sigstore trusted_root.json). Required for
	// Identities, and for TlogThreshold with keys.
	TrustedRoot root.TrustedMaterial
	// TlogThreshold is how many transparency-log entries a signature must
	// carry. Keyless signatures need at least one log entry or signed
	// timestamp to fix the signing time.
	TlogThreshold int
	// TimestampThreshold is how many RFC 3161 signed timestamps a
	// signature must carry.
	TimestampThreshold int
}

func (a Authority) validate() error {
	if len(a.Keys) == 0 && len(a.Identities) == 0 {
		return ErrNoAuthority
	}
	if a.TrustedRoot == nil && (len(a.Identities) > 0 || a.TlogThreshold > 0 || a.TimestampThreshold > 0) {
		return ErrNoTrustedRoot
	}
	return nil
}

// KeyID names a public key as cosign users see it: the hex SHA-256 of its
// DER (PKIX) encoding.
func KeyID(pub crypto.PublicKey) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// keyMaterial is trust material that answers every key hint with key:
// cosign bundles often carry an empty or arbitrary hint, so the key is
// bound by the authority, not by the bundle.
func keyMaterial(key crypto.PublicKey) (root.TrustedMaterial, error) {
	v, err := signature.LoadDefaultVerifier(key)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKindMismatch, err)
	}
	// Keys do not expire on their own; the authority decides.
	ek := root.NewExpiringKey(v, time.Time{}, time.Time{})
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return ek, nil }), nil
}

// verifierOptions maps the thresholds onto sigstore-go.
func (a Authority) verifierOptions(keyless bool) []verify.VerifierOption {
	var opts []verify.VerifierOption
	if a.TlogThreshold > 0 {
		opts = append(opts, verify.WithTransparencyLog(a.TlogThreshold), verify.WithIntegratedTimestamps(a.TlogThreshold))
	}
	if a.TimestampThreshold > 0 {
		opts = append(opts, verify.WithSignedTimestamps(a.TimestampThreshold))
	}
	if len(opts) == 0 {
		if keyless {
			// A certificate needs a time; without any threshold, accept
			// whichever observer (log or TSA) the signature has.
			opts = append(opts, verify.WithObserverTimestamps(1))
		} else {
			opts = append(opts, verify.WithNoObserverTimestamps())
		}
	}
	return opts
}

func (i Identity) certificateIdentity() (verify.CertificateIdentity, error) {
	return verify.NewShortCertificateIdentity(i.Issuer, i.IssuerRegexp, i.SAN, i.SANRegexp)
}

// PEMPublicKey parses a PEM public key, for callers that have one.
func PEMPublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	return cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
}
