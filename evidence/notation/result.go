package notation

import (
	"time"

	"github.com/opencontainers/go-digest"
)

// Envelope names, the values of Result.Envelope for the two envelope types
// of the Notary Project (any other media type is reported as it is).
const (
	EnvelopeJWS  = "jws"  // application/jose+json
	EnvelopeCOSE = "cose" // application/cose
)

// Check names, as the Notary Project trust policy names its validations.
const (
	CheckIntegrity          = "integrity"
	CheckAuthenticity       = "authenticity"
	CheckAuthenticTimestamp = "authenticTimestamp"
	CheckExpiry             = "expiry"
	CheckRevocation         = "revocation"
)

// Check actions, as the trust policy's level and override set them.
const (
	ActionEnforce = "enforce" // a failure fails the signature
	ActionLog     = "log"     // a failure is recorded; the signature can still verify
	ActionSkip    = "skip"    // not checked
)

// Check statuses.
const (
	StatusPassed     = "passed"
	StatusFailed     = "failed"
	StatusSkipped    = "skipped"    // the action is skip
	StatusNotReached = "notReached" // an enforced check before it failed
)

// Result is the verdict on one Notation signature.
type Result struct {
	Referrer digest.Digest `json:"referrer,omitempty"`
	// Envelope is EnvelopeJWS, EnvelopeCOSE or the media type found.
	Envelope string `json:"envelope,omitempty"`
	// Verified is notation's verdict: every enforced check passed and the
	// signature is over the subject. Under the audit level (or a "log"
	// override) it can be true while a check failed; [Result.Logged] lists
	// those failures and Reason names them.
	Verified bool `json:"verified"`
	// Level is the trust policy's verification level: strict, permissive,
	// audit, skip, or custom (a level with overrides).
	Level string `json:"level,omitempty"`
	// Policy is the name of the trust policy statement applied.
	Policy string `json:"trustPolicy,omitempty"`
	// Signer is the signing certificate's subject (RFC 4514), and Chain the
	// subjects of the certificate chain the envelope carries, leaf first.
	// Both are set whenever the envelope's integrity verified, even when a
	// later check failed.
	Signer        string    `json:"signer,omitempty"`
	Chain         []string  `json:"chain,omitempty"`
	SigningScheme string    `json:"signingScheme,omitempty"`
	SigningTime   time.Time `json:"signingTime,omitzero"`
	Expiry        time.Time `json:"expiry,omitzero"`
	// Timestamped reports an RFC 3161 countersignature in the envelope;
	// it was verified when the authenticTimestamp check passed with a
	// "tsa:" trust store in the policy.
	Timestamped bool          `json:"timestamped,omitempty"`
	Checks      []CheckResult `json:"checks,omitempty"`
	// Reason says why verification failed, or which logged checks failed
	// on a verified signature; Err is the typed error of a failure.
	Reason string `json:"reason,omitempty"`
	Err    error  `json:"-"`
}

// CheckResult is one validation of the Notary Project trust policy, as
// notation-go ran it.
type CheckResult struct {
	Name   string `json:"name"`
	Action string `json:"action"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
	// Err wraps one of this package's sentinels and notation-go's error.
	Err error `json:"-"`
}

// Logged returns the checks that failed without failing the signature
// (action "log"): what audit and permissive levels let through.
func (r *Result) Logged() []CheckResult {
	var out []CheckResult
	for _, c := range r.Checks {
		if c.Status == StatusFailed && c.Action != ActionEnforce {
			out = append(out, c)
		}
	}
	return out
}

func (r *Result) fail(err error) *Result {
	r.Verified, r.Err, r.Reason = false, err, err.Error()
	return r
}

// Verified reports whether any result verified.
func Verified(rs []Result) bool {
	for _, r := range rs {
		if r.Verified {
			return true
		}
	}
	return false
}
