package testrevocation

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/revocation"
	"github.com/notaryproject/notation-core-go/revocation/crl"
	revocationocsp "github.com/notaryproject/notation-core-go/revocation/ocsp"
	"github.com/notaryproject/notation-core-go/revocation/purpose"
	"github.com/notaryproject/notation-core-go/revocation/result"
)

// clientTimeout is notation-core-go's own default for OCSP.
const clientTimeout = 2 * time.Second

func newValidator(t *testing.T) revocation.Validator {
	t.Helper()
	client := &http.Client{Timeout: clientTimeout}
	fetcher, err := crl.NewHTTPFetcher(client)
	if err != nil {
		t.Fatal(err)
	}
	v, err := revocation.NewWithOptions(revocation.Options{
		OCSPHTTPClient:   client,
		CRLFetcher:       fetcher,
		CertChainPurpose: purpose.CodeSigning,
	})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestNotationRevocation runs notation-core-go's revocation checks, the
// ones notation-go's verifier makes, against the server. It pins what they
// do: OCSP first when the leaf names a responder; CRL only when the leaf has
// no responder, or when OCSP ends Unknown (an Unknown answer, an HTTP error
// or a timeout); a hung endpoint costs one client timeout and ends Unknown.
func TestNotationRevocation(t *testing.T) {
	tests := []struct {
		name      string
		ocsp, crl bool // which endpoints the leaf names
		setup     func(s *Server, leaf *x509.Certificate)
		ctxLimit  time.Duration // 0: no deadline on the context

		want       result.Result
		wantMethod result.RevocationMethod
		// wantTimeouts is how many server results must be timeouts.
		wantTimeouts int
		// minTime and maxTime bound how long the check may take.
		minTime, maxTime  time.Duration
		wantOCSP, wantCRL int64
	}{
		{
			name: "OCSP good", ocsp: true, crl: true,
			want: result.ResultOK, wantMethod: result.RevocationMethodOCSP, wantOCSP: 1,
		},
		{
			name: "OCSP revoked", ocsp: true, crl: true,
			setup: func(s *Server, leaf *x509.Certificate) { s.Revoke(leaf.SerialNumber, time.Now().Add(-time.Hour)) },
			want:  result.ResultRevoked, wantMethod: result.RevocationMethodOCSP, wantOCSP: 1,
		},
		{
			name: "OCSP unknown falls back to CRL", ocsp: true, crl: true,
			setup: func(s *Server, leaf *x509.Certificate) { s.SetUnknown(leaf.SerialNumber) },
			want:  result.ResultOK, wantMethod: result.RevocationMethodOCSPFallbackCRL, wantOCSP: 1, wantCRL: 1,
		},
		{
			name: "OCSP unknown and no CRL", ocsp: true,
			setup: func(s *Server, leaf *x509.Certificate) { s.SetUnknown(leaf.SerialNumber) },
			want:  result.ResultUnknown, wantMethod: result.RevocationMethodOCSP, wantOCSP: 1,
		},
		{
			name: "CRL only good", crl: true,
			want: result.ResultOK, wantMethod: result.RevocationMethodCRL, wantCRL: 1,
		},
		{
			name: "CRL only revoked", crl: true,
			setup: func(s *Server, leaf *x509.Certificate) { s.Revoke(leaf.SerialNumber, time.Now().Add(-time.Hour)) },
			want:  result.ResultRevoked, wantMethod: result.RevocationMethodCRL, wantCRL: 1,
		},
		{
			name: "neither endpoint",
			want: result.ResultNonRevokable, wantMethod: result.RevocationMethodUnknown,
		},
		{
			name: "OCSP 500 falls back to CRL revoked", ocsp: true, crl: true,
			setup: func(s *Server, leaf *x509.Certificate) {
				s.OCSP.SetStatus(http.StatusInternalServerError)
				s.Revoke(leaf.SerialNumber, time.Now().Add(-time.Hour))
			},
			want: result.ResultRevoked, wantMethod: result.RevocationMethodOCSPFallbackCRL, wantOCSP: 1, wantCRL: 1,
		},
		{
			name: "both 503", ocsp: true, crl: true,
			setup: func(s *Server, _ *x509.Certificate) { s.SetStatus(http.StatusServiceUnavailable) },
			want:  result.ResultUnknown, wantMethod: result.RevocationMethodOCSPFallbackCRL, wantOCSP: 1, wantCRL: 1,
		},
		{
			name: "OCSP hangs, CRL says revoked", ocsp: true, crl: true,
			setup: func(s *Server, leaf *x509.Certificate) {
				s.OCSP.SetHang(true)
				s.Revoke(leaf.SerialNumber, time.Now().Add(-time.Hour))
			},
			// The fallback result lists the OCSP timeout before the CRL's
			// answer.
			want: result.ResultRevoked, wantMethod: result.RevocationMethodOCSPFallbackCRL, wantTimeouts: 1,
			minTime: clientTimeout, maxTime: clientTimeout + 2*time.Second,
			wantOCSP: 1, wantCRL: 1,
		},
		{
			name: "OCSP only, hangs", ocsp: true,
			setup: func(s *Server, _ *x509.Certificate) { s.SetHang(true) },
			want:  result.ResultUnknown, wantMethod: result.RevocationMethodOCSP, wantTimeouts: 1,
			minTime: clientTimeout, maxTime: clientTimeout + 2*time.Second,
			wantOCSP: 1,
		},
		{
			name: "both hang", ocsp: true, crl: true,
			setup: func(s *Server, _ *x509.Certificate) { s.SetHang(true) },
			want:  result.ResultUnknown, wantMethod: result.RevocationMethodOCSPFallbackCRL, wantTimeouts: 2,
			minTime: 2 * clientTimeout, maxTime: 2*clientTimeout + 2*time.Second,
			wantOCSP: 1, wantCRL: 1,
		},
		{
			name: "both hang, context deadline first", ocsp: true, crl: true,
			setup:    func(s *Server, _ *x509.Certificate) { s.SetHang(true) },
			ctxLimit: 300 * time.Millisecond,
			// The OCSP request ends at the deadline; the CRL request
			// starts with a context already done and never reaches the
			// server.
			want: result.ResultUnknown, wantMethod: result.RevocationMethodOCSPFallbackCRL, wantTimeouts: 2,
			minTime: 300 * time.Millisecond, maxTime: clientTimeout,
			wantOCSP: 1, wantCRL: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the hang cases wait out real timeouts
			ca := newCA(t, "root")
			s := New(t, ca.Cert, ca.Key)
			var ocspURL, crlURL string
			if tc.ocsp {
				ocspURL = s.OCSPURL()
			}
			if tc.crl {
				crlURL = s.CRLURL()
			}
			leaf := issueLeaf(t, ca, ocspURL, crlURL)
			if tc.setup != nil {
				tc.setup(s, leaf)
			}
			ctx := context.Background()
			if tc.ctxLimit > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.ctxLimit)
				defer cancel()
			}

			start := time.Now()
			results, err := newValidator(t).ValidateContext(ctx, revocation.ValidateContextOptions{
				CertChain: []*x509.Certificate{leaf, ca.Cert},
			})
			took := time.Since(start)
			if err != nil {
				t.Fatalf("ValidateContext: %v", err)
			}
			if len(results) != 2 {
				t.Fatalf("got %d results, want 2 (leaf, root)", len(results))
			}
			if r := results[1]; r.Result != result.ResultNonRevokable {
				t.Errorf("root: %v, want NonRevokable", r.Result)
			}
			got := results[0]
			if got.Result != tc.want || got.RevocationMethod != tc.wantMethod {
				t.Errorf("leaf: %v by method %d, want %v by method %d", got.Result, got.RevocationMethod, tc.want, tc.wantMethod)
			}
			timeouts := 0
			for _, sr := range got.ServerResults {
				t.Logf("server %q method %d: %v, error: %v", sr.Server, sr.RevocationMethod, sr.Result, sr.Error)
				if isTimeout(sr.Error) {
					timeouts++
				}
			}
			if timeouts != tc.wantTimeouts {
				t.Errorf("%d server results are timeouts, want %d", timeouts, tc.wantTimeouts)
			}
			maxTime := tc.maxTime
			if maxTime == 0 {
				maxTime = clientTimeout / 2 // an answering server is fast
			}
			if took < tc.minTime || took > maxTime {
				t.Errorf("check took %v, want between %v and %v", took, tc.minTime, maxTime)
			}
			if got := s.OCSP.Requests(); got != tc.wantOCSP {
				t.Errorf("OCSP.Requests() = %d, want %d", got, tc.wantOCSP)
			}
			if got := s.CRL.Requests(); got != tc.wantCRL {
				t.Errorf("CRL.Requests() = %d, want %d", got, tc.wantCRL)
			}
		})
	}
}

// isTimeout reports whether a server result's error is a timeout:
// notation-core-go's OCSP TimeoutError, or a CRL fetch error wrapping the
// HTTP client's timeout or the context's deadline.
func isTimeout(err error) bool {
	var te revocationocsp.TimeoutError
	var ue *url.Error
	return errors.As(err, &te) ||
		(errors.As(err, &ue) && ue.Timeout()) ||
		errors.Is(err, context.DeadlineExceeded)
}
