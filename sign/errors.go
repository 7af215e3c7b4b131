package sign

import (
	"errors"
	"fmt"
)

// Keyless errors. A failure at Fulcio, a TSA or Rekor is a *KeylessError
// wrapping sigstore-go's error.
var (
	// ErrKeylessNoTime: neither a transparency log nor a timestamp
	// authority. A Fulcio certificate lives ten minutes; without a trusted
	// time of signing no verifier can accept it afterwards.
	ErrKeylessNoTime = errors.New("sign: keyless signing needs a Rekor URL or a timestamp authority URL to prove when it signed")
	// ErrKeylessIncomplete: no Fulcio URL or no ID token.
	ErrKeylessIncomplete = errors.New("sign: keyless signing needs a Fulcio URL and an OIDC ID token")
	// ErrKeylessLegacy: keyless signing asked for the legacy format. It
	// wraps errors.ErrUnsupported.
	ErrKeylessLegacy = fmt.Errorf("sign: keyless signatures are written in the bundle format only; sign with the bundle format: %w", errors.ErrUnsupported)
)

// KeylessError is a keyless signing step that failed.
type KeylessError struct {
	Op  string // "certificate" (Fulcio) or "sign" (signing, timestamps, log, self-check)
	URL string // the Fulcio URL for "certificate", credentials redacted
	Err error
}

func (e *KeylessError) Error() string {
	if e.URL != "" {
		return fmt.Sprintf("sign: keyless %s from %s: %v", e.Op, e.URL, e.Err)
	}
	return fmt.Sprintf("sign: keyless %s: %v", e.Op, e.Err)
}

func (e *KeylessError) Unwrap() error { return e.Err }

// ErrNotationOptions: a Notation signing option that cannot be honoured.
var ErrNotationOptions = errors.New("sign: invalid Notation option")

// ErrAttestOptions: an attestation that cannot be made as asked.
var ErrAttestOptions = errors.New("sign: invalid attestation")
