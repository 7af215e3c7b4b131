package cosign

import (
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Identity is a keyless signer: the OIDC issuer and the certificate's
// subject alternative name, each exact or a regular expression (set one
// of each pair), and the Fulcio certificate extensions that must hold
// exactly these values (cosign's --certificate-github-workflow-* flags
// set the GitHub ones).
type Identity struct {
	Issuer       string `json:"issuer,omitempty"`
	IssuerRegexp string `json:"issuerRegexp,omitempty"`
	SAN          string `json:"san,omitempty"`
	SANRegexp    string `json:"sanRegexp,omitempty"`
	// Extensions are matched exactly by sigstore-go; empty fields match
	// anything. Issuer is not set here: it is Issuer above.
	Extensions certificate.Extensions `json:"extensions,omitzero"`
	// GitHub, when set, adds the repository-owner checks that `gh
	// attestation verify` makes after sigstore-go has verified the
	// certificate (see [GitHubIdentity]).
	GitHub *GitHubClaims `json:"github,omitempty"`
}

// Key is a trusted public key and, optionally, the window in which it
// may have signed. A window needs a verified time of signing: a log
// entry's integrated time or an RFC 3161 timestamp.
type Key struct {
	Public     crypto.PublicKey
	ValidFrom  time.Time // zero: no start
	ValidUntil time.Time // zero: no end
}

// NewKey is a key with no validity window.
func NewKey(pub crypto.PublicKey) Key { return Key{Public: pub} }

func (k Key) windowed() bool { return !k.ValidFrom.IsZero() || !k.ValidUntil.IsZero() }

// TrustedRoot is one Sigstore deployment an authority trusts: its trust
// material (Fulcio CAs, Rekor and CT log keys, TSAs, with their validity
// windows) and the evidence a signature must carry to be accepted under
// it. The zero thresholds are cosign's defaults: one transparency-log
// entry, and for certificates a verified SCT; the signing time of a
// certificate comes from a log entry's integrated time (Rekor v1) or an
// RFC 3161 timestamp (required for Rekor v2 entries, which have none).
type TrustedRoot struct {
	// Name says where the material came from, for reports:
	// "public-good (TUF)", "trusted_root.json", "github".
	Name     string
	Material root.TrustedMaterial
	// TlogThreshold is how many transparency-log entries a signature must
	// carry; 0 means 1 unless IgnoreTlogUnsafe.
	TlogThreshold int
	// TimestampThreshold is how many RFC 3161 timestamps a signature must
	// carry; 0 means none beyond what a certificate's time needs.
	TimestampThreshold int
	// IgnoreTlogUnsafe accepts signatures without a log entry (cosign's
	// --insecure-ignore-tlog).
	IgnoreTlogUnsafe bool
	// IgnoreSCTUnsafe accepts Fulcio certificates without a verified
	// signed certificate timestamp (cosign's --insecure-ignore-sct), for
	// deployments whose Fulcio logs to no CT log.
	IgnoreSCTUnsafe bool
}

// Tlogs is how many log entries the root requires.
func (t TrustedRoot) Tlogs() int {
	switch {
	case t.IgnoreTlogUnsafe:
		return 0
	case t.TlogThreshold > 0:
		return t.TlogThreshold
	}
	return 1
}

// Authority is who may sign, and under which Sigstore deployments.
// Security inputs have no defaults: an empty Authority is an error.
type Authority struct {
	// Keys are trusted public keys (cosign.pub files).
	Keys []Key
	// Identities are trusted keyless signers; they need Roots.
	Identities []Identity
	// Roots are the trusted Sigstore deployments. A signature is accepted
	// when sigstore-go verifies it completely under one of them. Keyless
	// identities need one; keys need one to check log entries or
	// timestamps, and without any are checked alone, with no log
	// (cosign's --key with --insecure-ignore-tlog).
	Roots []TrustedRoot
}

// Validate says why a cannot verify anything: no keys and no identities,
// identities without a trusted root, a root without material.
func (a Authority) Validate() error {
	if len(a.Keys) == 0 && len(a.Identities) == 0 {
		return ErrNoAuthority
	}
	if len(a.Identities) > 0 && len(a.Roots) == 0 {
		return ErrNoTrustedRoot
	}
	for _, r := range a.Roots {
		if r.Material == nil {
			return fmt.Errorf("%w: %q has no trust material", ErrNoTrustedRoot, r.Name)
		}
	}
	for _, k := range a.Keys {
		if k.windowed() && len(a.Roots) == 0 {
			return fmt.Errorf("%w: a key with a validity window needs a verified signing time, from a log or a timestamp authority", ErrNoTrustedRoot)
		}
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
// bound by the authority, not by the bundle. Its validity window, when
// set, is checked by sigstore-go against the verified signing times.
func keyMaterial(k Key) (root.TrustedMaterial, error) {
	v, err := signature.LoadDefaultVerifier(k.Public)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrKindMismatch, err)
	}
	ek := root.NewExpiringKey(v, k.ValidFrom, k.ValidUntil)
	return root.NewTrustedPublicKeyMaterial(func(string) (root.TimeConstrainedVerifier, error) { return ek, nil }), nil
}

// keylessOptions are the verifier options for a certificate under r, as
// cosign and `gh attestation verify` set them for the public-good
// instance: SCTs (unless ignored), the log entries required, and a
// verified time for the certificate from either a log entry or a TSA.
func (r TrustedRoot) keylessOptions() []verify.VerifierOption {
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1)}
	if !r.IgnoreSCTUnsafe {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	if n := r.Tlogs(); n > 0 {
		opts = append(opts, verify.WithTransparencyLog(n))
	}
	if r.TimestampThreshold > 0 {
		opts = append(opts, verify.WithSignedTimestamps(r.TimestampThreshold))
	}
	return opts
}

// keyOptions are the verifier options for a key signature under r (nil:
// the key alone). A key needs no time unless it has a validity window or
// timestamps are required.
func keyOptions(r *TrustedRoot, k Key) []verify.VerifierOption {
	if r == nil {
		return []verify.VerifierOption{verify.WithNoObserverTimestamps()}
	}
	var opts []verify.VerifierOption
	if n := r.Tlogs(); n > 0 {
		opts = append(opts, verify.WithTransparencyLog(n))
	}
	if r.TimestampThreshold > 0 {
		opts = append(opts, verify.WithSignedTimestamps(r.TimestampThreshold))
	}
	switch {
	case k.windowed():
		opts = append(opts, verify.WithObserverTimestamps(1))
	case r.TimestampThreshold == 0:
		opts = append(opts, verify.WithNoObserverTimestamps())
	}
	return opts
}

func (i Identity) certificateIdentity() (verify.CertificateIdentity, error) {
	san, err := verify.NewSANMatcher(i.SAN, i.SANRegexp)
	if err != nil {
		return verify.CertificateIdentity{}, err
	}
	issuer, err := verify.NewIssuerMatcher(i.Issuer, i.IssuerRegexp)
	if err != nil {
		return verify.CertificateIdentity{}, err
	}
	return verify.NewCertificateIdentity(san, issuer, i.Extensions)
}

// PEMPublicKey parses a PEM public key, for callers that have one.
func PEMPublicKey(pemBytes []byte) (crypto.PublicKey, error) {
	return cryptoutils.UnmarshalPEMToPublicKey(pemBytes)
}
