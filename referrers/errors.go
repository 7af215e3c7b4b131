package referrers

import (
	"errors"
	"fmt"

	"github.com/opencontainers/go-digest"
)

// Sentinel errors. A referrer rejected for one of them is reported in
// [Result.Rejected]; listing failures are returned as errors.
var (
	// ErrSubjectMismatch: the referrer's subject is another manifest, or
	// absent. A fallback index can list anything; this is how replay of
	// another artifact's signatures is caught.
	ErrSubjectMismatch = errors.New("referrer's subject is not the subject")
	// ErrSelfReference: the listing names the subject itself.
	ErrSelfReference = errors.New("listing names the subject itself")
	// ErrNotIndex: a fallback tag resolves to something other than an
	// image index.
	ErrNotIndex = errors.New("fallback tag is not an image index")
	// ErrNotManifest: a referrer is not an OCI image manifest.
	ErrNotManifest = errors.New("referrer is not an OCI image manifest")
	// ErrTooManyReferrers: more referrers listed than Options.MaxReferrers.
	ErrTooManyReferrers = errors.New("too many referrers")
	// ErrNoAPI: mode "api" on a registry (or layout) without the
	// Referrers API.
	ErrNoAPI = errors.New("no Referrers API")
)

// RejectError is why one referrer was not returned.
type RejectError struct {
	Digest digest.Digest
	Found  Path
	Err    error
}

func (e *RejectError) Error() string {
	return fmt.Sprintf("referrer %s (found by %s): %v", e.Digest, e.Found, e.Err)
}

func (e *RejectError) Unwrap() error { return e.Err }
