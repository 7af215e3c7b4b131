package sigstoreroot

import (
	"errors"
	"fmt"

	"github.com/theupdateframework/go-tuf/v2/metadata"
)

var (
	// ErrRefused: the mirror answered, and TUF refused what it served
	// (expired, rolled back, badly signed or oversized metadata, a target
	// whose length or hash does not match, a target that is not a trusted
	// root). Nothing falls back to a cache or a snapshot after it.
	ErrRefused = errors.New("TUF refused the trust root the mirror served")
	// ErrUnavailable: no trust root could be obtained: the mirror could not
	// be reached and there is neither a cache nor an embedded snapshot.
	ErrUnavailable = errors.New("no trust root available")
	// ErrInvalidMirror: a mirror URL or initial root that cannot be used.
	ErrInvalidMirror = errors.New("invalid TUF mirror")
	// ErrOffline: a request attempted while offline (the cache was not
	// enough).
	ErrOffline = errors.New("offline: no request made")
)

// Error is a failure to obtain a mirror's trust root.
type Error struct {
	Mirror string
	Err    error // ErrRefused, ErrUnavailable or ErrInvalidMirror
	Cause  error
}

func (e *Error) Error() string {
	fix := ""
	switch e.Err {
	case ErrRefused:
		fix = " (do not trust this mirror until it is fixed; pass a trusted root file to verify meanwhile)"
	case ErrUnavailable:
		fix = " (connect once to fetch it, or pass a trusted root file)"
	}
	return fmt.Sprintf("%s: %v: %v%s", e.Mirror, e.Err, e.Cause, fix)
}

func (e *Error) Unwrap() []error { return []error{e.Err, e.Cause} }

// refused tells a TUF refusal from an outage. go-tuf's repository errors
// are refusals; so is a body over its declared length, which go-tuf
// reports as a download error before any hash is checked. Everything
// else — a connection error, an HTTP status, being offline — is an
// outage.
func refused(err error) bool {
	return errors.Is(err, &metadata.ErrRepository{}) || errors.Is(err, &metadata.ErrDownloadLengthMismatch{})
}
