package remote

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/errcode"

	"github.com/wasmgate/wasmgate/artifact"
)

// Sentinel errors for registry failures.
var (
	// ErrUnauthorized: the registry wants credentials that were not given or
	// were refused (401).
	ErrUnauthorized = errors.New("authentication required")
	// ErrDenied: the credentials were accepted but lack permission (403).
	ErrDenied = errors.New("access denied")
	// ErrNotFound is oras-go's, so errors.Is works across both libraries.
	ErrNotFound = errdef.ErrNotFound
	// ErrTimeout: the registry did not answer, or stalled, within the timeout.
	// Errors wrapping it also wrap context.DeadlineExceeded.
	ErrTimeout = errors.New("registry timed out")
	// ErrUnreachable: the host could not be resolved or connected to.
	ErrUnreachable = errors.New("registry unreachable")
	// ErrDigestMismatch: content, or the digest a registry claims for it,
	// is not the digest it was asked for.
	ErrDigestMismatch = artifact.ErrDigestMismatch
	// ErrServer: the registry kept answering with a server error.
	ErrServer = errors.New("registry server error")
	// ErrInsecureRedirect: a redirect would have left https.
	ErrInsecureRedirect = errors.New("refused redirect from https to http")
	// ErrTooManyRedirects: more than 10 redirects.
	ErrTooManyRedirects = errors.New("too many redirects")
	// ErrPlainHTTP: the registry answered an https request in plain HTTP
	// (net/http's ErrSchemeMismatch): it speaks only HTTP, and this client
	// was not told to speak HTTP to it ([Options.PlainHTTP]).
	ErrPlainHTTP = errors.New("the registry speaks plain HTTP, not HTTPS")
)

// Error is a classified registry failure.
type Error struct {
	Op     string // "resolve", "fetch", "push", "login", ...
	Host   string
	Status int   // HTTP status when the registry answered, else 0
	Kind   error // one of the sentinels above
	Err    error // the underlying error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("%s on %s: %v", e.Op, e.Host, e.Kind)
	if e.Status != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.Status)
	}
	// What to do next, for the failures where the host is enough to say.
	switch e.Kind {
	case ErrUnauthorized:
		msg += "; run `wasmgate login " + e.Host + "` or check the credentials in Docker's config.json"
	case ErrDenied:
		msg += "; the credentials for " + e.Host + " do not allow this: log in as a user who may (`wasmgate login " + e.Host + "`)"
	case ErrNotFound:
		msg += "; check the repository and the tag or digest"
	case ErrUnreachable:
		msg += "; check the host name and your network"
	case ErrServer:
		msg += "; the registry is failing: retry later"
	case ErrPlainHTTP:
		msg += "; to speak plain HTTP to it (only on a network you trust), pass --plain-http or set WASMGATE_PLAIN_HTTP=" + e.Host
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap exposes both the classification and the cause, so that
// errors.Is(err, ErrTimeout) and errors.Is(err, context.DeadlineExceeded)
// both hold for a timeout.
func (e *Error) Unwrap() []error { return []error{e.Kind, e.Err} }

// Classify wraps err, returned by an oras-go call on host, into an *Error
// whose Kind is one of this package's sentinels. It returns err unchanged
// when err is nil, already classified, or not a registry failure (a
// context cancellation by the caller, say).
func Classify(op, host string, err error) error {
	if err == nil {
		return nil
	}
	var already *Error
	if errors.As(err, &already) {
		return err
	}
	e := &Error{Op: op, Host: host, Err: err}
	var resp *errcode.ErrorResponse
	var dns *net.DNSError
	var opErr *net.OpError
	switch {
	case errors.Is(err, ErrTimeout):
		e.Kind = ErrTimeout
	case errors.Is(err, ErrDigestMismatch):
		e.Kind = ErrDigestMismatch
	case errors.Is(err, ErrInsecureRedirect):
		e.Kind = ErrInsecureRedirect
	case errors.Is(err, ErrTooManyRedirects):
		e.Kind = ErrTooManyRedirects
	case errors.Is(err, http.ErrSchemeMismatch):
		e.Kind = ErrPlainHTTP
	case errors.Is(err, auth.ErrBasicCredentialNotFound):
		// A Basic challenge and nothing stored for the host.
		e.Kind = ErrUnauthorized
	case errors.Is(err, errdef.ErrNotFound):
		e.Kind = ErrNotFound
	case errors.As(err, &resp):
		e.Status = resp.StatusCode
		switch {
		case resp.StatusCode == http.StatusUnauthorized:
			e.Kind = ErrUnauthorized
		case resp.StatusCode == http.StatusForbidden:
			e.Kind = ErrDenied
		case resp.StatusCode == http.StatusNotFound:
			e.Kind = ErrNotFound
		case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
			e.Kind = ErrServer
		default:
			return err
		}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The caller's own context: not the registry's fault.
		return err
	case errors.As(err, &dns), errors.As(err, &opErr):
		e.Kind = ErrUnreachable
	default:
		return err
	}
	return e
}
