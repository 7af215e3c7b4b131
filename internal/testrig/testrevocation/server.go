package testrevocation

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	ocspPath = "/ocsp"
	crlPath  = "/crl"

	// backdate covers clock skew between the answer and its checker, as
	// real responders do.
	backdate = time.Minute
	// validity is the NextUpdate distance of OCSP answers and CRLs: far
	// beyond any test, so nothing expires during one.
	validity = time.Hour
)

// Server is an OCSP responder and a CRL distribution point for one issuer,
// listening on 127.0.0.1. Its methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, http://127.0.0.1:PORT, with no trailing slash.
	URL string
	// OCSP and CRL are the two endpoints, for per-endpoint faults and
	// request counts.
	OCSP, CRL *Endpoint

	issuer *x509.Certificate
	key    crypto.Signer
	// issuerKey is the subjectPublicKey BIT STRING of the issuer, the input
	// of an OCSP CertID's issuerKeyHash.
	issuerKey []byte

	mu        sync.Mutex
	revoked   map[string]revoked // by serial.String()
	unknown   map[string]bool
	crlDER    []byte // nil when the revoked set changed since issuance
	crlNumber int64
	crlStale  time.Time // issue again after this, long before NextUpdate
}

type revoked struct {
	serial *big.Int
	at     time.Time
}

// New starts a Server for issuer, whose answers and CRLs are signed with
// issuerKey, and stops it when the test ends; requests still hung then are
// aborted. The issuer must have the cRLSign key usage (x509 refuses to sign
// a CRL otherwise): New fails the test if it cannot issue a first CRL.
func New(t testing.TB, issuer *x509.Certificate, issuerKey crypto.Signer) *Server {
	t.Helper()
	if issuer == nil || issuerKey == nil {
		t.Fatal("testrevocation.New: issuer and issuerKey are required")
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(issuer.RawSubjectPublicKeyInfo, &spki); err != nil {
		t.Fatalf("testrevocation.New: parse issuer public key: %v", err)
	}
	stop := make(chan struct{})
	s := &Server{
		OCSP:      &Endpoint{name: "OCSP", stop: stop},
		CRL:       &Endpoint{name: "CRL", stop: stop},
		issuer:    issuer,
		key:       issuerKey,
		issuerKey: spki.PublicKey.RightAlign(),
		revoked:   map[string]revoked{},
		unknown:   map[string]bool{},
	}
	if _, err := s.currentCRL(); err != nil {
		t.Fatalf("testrevocation.New: issue the first CRL (does the issuer have the cRLSign key usage?): %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(func() {
		close(stop) // release hung handlers first: Close waits for them
		srv.Close()
	})
	s.URL = srv.URL
	return s
}

// OCSPURL is the responder's address, for a certificate's OCSPServer field.
func (s *Server) OCSPURL() string { return s.URL + ocspPath }

// CRLURL is the CRL's address, for a certificate's CRLDistributionPoints
// field.
func (s *Server) CRLURL() string { return s.URL + crlPath }

// Revoke revokes the certificate with this serial number as of at (kept to
// the second, as OCSP and CRLs encode it), with no reason code. The OCSP
// responder answers Revoked for it from now on, even after SetUnknown, and
// the CRL is issued again with it listed. Revoking it again moves the date.
func (s *Server) Revoke(serial *big.Int, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[serial.String()] = revoked{serial: new(big.Int).Set(serial), at: at.UTC().Truncate(time.Second)}
	s.crlDER = nil
}

// SetUnknown makes the OCSP responder answer Unknown for this serial number
// unless it is revoked, as a responder does for a certificate it knows
// nothing about. A CRL cannot say "unknown": the CRL does not list it.
func (s *Server) SetUnknown(serial *big.Int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unknown[serial.String()] = true
}

// SetHang makes both endpoints hold every request unanswered until the
// client gives up (or the test ends), or, with false, answer again.
func (s *Server) SetHang(on bool) {
	s.OCSP.SetHang(on)
	s.CRL.SetHang(on)
}

// SetStatus makes both endpoints answer every request with this HTTP status
// and a text body instead; 0 or 200 restores real answers.
func (s *Server) SetStatus(code int) {
	s.OCSP.SetStatus(code)
	s.CRL.SetStatus(code)
}

// ServeHTTP routes on the escaped path: a GET OCSP request carries base64,
// whose "/" and "//" a path-cleaning router would mangle or redirect.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	switch {
	case p == ocspPath || strings.HasPrefix(p, ocspPath+"/"):
		if s.OCSP.intercept(w, r) {
			return
		}
		s.serveOCSP(w, r, strings.TrimPrefix(p, ocspPath))
	case p == crlPath:
		if s.CRL.intercept(w, r) {
			return
		}
		s.serveCRL(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) serveCRL(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	der, err := s.currentCRL()
	if err != nil {
		http.Error(w, "issue CRL: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/pkix-crl")
	w.Header().Set("Content-Length", strconv.Itoa(len(der)))
	if r.Method == http.MethodGet {
		_, _ = w.Write(der)
	}
}

// currentCRL returns the CRL, issuing a new one, with the next CRL Number,
// if the revoked set changed or the last one is getting old.
func (s *Server) currentCRL() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	if s.crlDER != nil && now.Before(s.crlStale) {
		return s.crlDER, nil
	}
	entries := make([]x509.RevocationListEntry, 0, len(s.revoked))
	for _, rv := range s.revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: rv.serial, RevocationTime: rv.at})
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].SerialNumber.Cmp(entries[j].SerialNumber) < 0 })
	tmpl := &x509.RevocationList{
		Number:                    big.NewInt(s.crlNumber + 1),
		ThisUpdate:                now.Add(-backdate),
		NextUpdate:                now.Add(validity),
		RevokedCertificateEntries: entries,
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, s.issuer, s.key)
	if err != nil {
		return nil, err
	}
	s.crlNumber++
	s.crlDER = der
	s.crlStale = now.Add(validity / 2)
	return der, nil
}

// Endpoint is one of a Server's two endpoints. Its methods are safe for
// concurrent use.
type Endpoint struct {
	name     string
	requests atomic.Int64
	hang     atomic.Bool
	status   atomic.Int32
	stop     <-chan struct{}
}

// Requests is the number of requests the endpoint received so far, faulted
// ones included.
func (e *Endpoint) Requests() int64 { return e.requests.Load() }

// SetHang makes the endpoint hold every request unanswered until the client
// gives up (or the test ends), or, with false, answer again. A hang wins
// over SetStatus.
func (e *Endpoint) SetHang(on bool) { e.hang.Store(on) }

// SetStatus makes the endpoint answer every request with this HTTP status
// and a text body; 0 or 200 restores real answers. It panics on a code
// net/http cannot send.
func (e *Endpoint) SetStatus(code int) {
	if code != 0 && (code < 100 || code > 999) {
		panic(fmt.Sprintf("testrevocation: %s.SetStatus(%d): not an HTTP status", e.name, code))
	}
	e.status.Store(int32(code))
}

// intercept counts the request and applies the fault, if any; it reports
// whether the request was answered (or abandoned) by the fault.
func (e *Endpoint) intercept(w http.ResponseWriter, r *http.Request) bool {
	e.requests.Add(1)
	if e.hang.Load() {
		select {
		case <-r.Context().Done():
		case <-e.stop:
			panic(http.ErrAbortHandler) // drop the connection, say nothing
		}
		return true
	}
	if code := int(e.status.Load()); code != 0 && code != http.StatusOK {
		http.Error(w, fmt.Sprintf("testrevocation: %s fault: status %d", e.name, code), code)
		return true
	}
	return false
}
