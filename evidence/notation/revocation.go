package notation

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/crl"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-core-go/revocation/result"
	"github.com/notaryproject/notation-go/verifier/truststore"
)

// revocationValidators returns notation-core-go's OCSP/CRL validators for
// code signing and timestamping chains, each HTTP request and each whole
// chain check bounded by timeout; the code signing one reports what it
// found to rec (notation-go flattens it into an untyped error).
func revocationValidators(rec *revocationRecorder, timeout time.Duration) (codeSigning, timestamping revocation.Validator, err error) {
	newValidator := func(p purpose.Purpose) (revocation.Validator, error) {
		hc := &http.Client{Timeout: timeout}
		fetcher, err := crl.NewHTTPFetcher(hc)
		if err != nil {
			return nil, err
		}
		v, err := revocation.NewWithOptions(revocation.Options{OCSPHTTPClient: hc, CRLFetcher: fetcher, CertChainPurpose: p})
		if err != nil {
			return nil, err
		}
		return &boundedValidator{next: v, timeout: timeout}, nil
	}
	cs, err := newValidator(purpose.CodeSigning)
	if err != nil {
		return nil, nil, err
	}
	ts, err := newValidator(purpose.Timestamping)
	if err != nil {
		return nil, nil, err
	}
	return &recordingValidator{next: cs, rec: rec}, ts, nil
}

// boundedValidator bounds one chain's whole revocation check: OCSP then
// CRL for every certificate could otherwise add up to many timeouts.
type boundedValidator struct {
	next    revocation.Validator
	timeout time.Duration
}

func (b *boundedValidator) ValidateContext(ctx context.Context, opts revocation.ValidateContextOptions) ([]*result.CertRevocationResult, error) {
	ctx, cancel := context.WithTimeout(ctx, b.timeout)
	defer cancel()
	return b.next.ValidateContext(ctx, opts)
}

// recordingValidator keeps the last revocation results, so that a revoked
// certificate and an unknown status are told apart by their results.
type recordingValidator struct {
	next revocation.Validator
	rec  *revocationRecorder
}

func (r *recordingValidator) ValidateContext(ctx context.Context, opts revocation.ValidateContextOptions) ([]*result.CertRevocationResult, error) {
	res, err := r.next.ValidateContext(ctx, opts)
	r.rec.set(res, err)
	return res, err
}

type revocationRecorder struct {
	mu      sync.Mutex
	results []*result.CertRevocationResult
	err     error
}

func (r *revocationRecorder) reset() { r.set(nil, nil) }

func (r *revocationRecorder) set(res []*result.CertRevocationResult, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results, r.err = res, err
}

func (r *revocationRecorder) revoked() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.results {
		if c != nil && c.Result == result.ResultRevoked {
			return true
		}
	}
	return false
}

// error returns the validator's own error, else the first server error.
func (r *revocationRecorder) error() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	for _, c := range r.results {
		if c == nil || c.Result == result.ResultOK || c.Result == result.ResultNonRevokable {
			continue
		}
		for _, s := range c.ServerResults {
			if s != nil && s.Error != nil {
				return s.Error
			}
		}
	}
	return nil
}

func isTrustStoreError(err error) bool {
	return errors.As(err, new(truststore.TrustStoreError)) || errors.As(err, new(truststore.CertificateError))
}
