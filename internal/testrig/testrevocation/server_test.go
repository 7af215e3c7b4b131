package testrevocation

import (
	"bytes"

	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"
)

// askOCSP sends der to the responder in one of the RFC 6960 forms and
// returns the body of the 200 answer.
func askOCSP(t *testing.T, form, ocspURL string, der []byte) []byte {
	t.Helper()
	var (
		resp *http.Response
		err  error
	)
	enc := base64.StdEncoding.EncodeToString(der)
	switch form {
	case "POST":
		resp, err = http.Post(ocspURL, "application/ocsp-request", bytes.NewReader(der))
	case "GET": // as notation-core-go builds it
		var u string
		if u, err = url.JoinPath(ocspURL, url.QueryEscape(enc)); err != nil {
			t.Fatal(err)
		}
		resp, err = http.Get(u)
	case "GET unescaped": // base64's "+" and "/" as they are, as some clients send
		resp, err = http.Get(ocspURL + "/" + enc)
	default:
		t.Fatalf("unknown form %q", form)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d: %s", form, ocspURL, resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/ocsp-response" {
		t.Errorf("Content-Type = %q, want application/ocsp-response", ct)
	}
	return body
}

func TestOCSPStatuses(t *testing.T) {
	ca := newCA(t, "root")
	s := New(t, ca.Cert, ca.Key)
	good := issueLeaf(t, ca, s.OCSPURL(), s.CRLURL())
	revoked := issueLeaf(t, ca, s.OCSPURL(), s.CRLURL())
	unknown := issueLeaf(t, ca, s.OCSPURL(), s.CRLURL())
	revokedAt := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	s.Revoke(revoked.SerialNumber, revokedAt)
	s.SetUnknown(unknown.SerialNumber)

	for _, form := range []string{"POST", "GET", "GET unescaped"} {
		for _, hash := range []crypto.Hash{crypto.SHA1, crypto.SHA256} {
			for _, tc := range []struct {
				name string
				leaf *x509.Certificate
				want int
			}{
				{"good", good, ocsp.Good},
				{"revoked", revoked, ocsp.Revoked},
				{"unknown", unknown, ocsp.Unknown},
			} {
				t.Run(form+"/"+hash.String()+"/"+tc.name, func(t *testing.T) {
					req, err := ocsp.CreateRequest(tc.leaf, ca.Cert, &ocsp.RequestOptions{Hash: hash})
					if err != nil {
						t.Fatal(err)
					}
					before := time.Now()
					// ParseResponseForCert checks the issuer's signature.
					resp, err := ocsp.ParseResponseForCert(askOCSP(t, form, s.OCSPURL(), req), tc.leaf, ca.Cert)
					if err != nil {
						t.Fatal(err)
					}
					if resp.Status != tc.want {
						t.Errorf("Status = %d, want %d", resp.Status, tc.want)
					}
					if resp.SerialNumber.Cmp(tc.leaf.SerialNumber) != 0 {
						t.Errorf("SerialNumber = %v, want %v", resp.SerialNumber, tc.leaf.SerialNumber)
					}
					if resp.IssuerHash != hash {
						t.Errorf("IssuerHash = %v, want the request's %v", resp.IssuerHash, hash)
					}
					if !resp.ThisUpdate.Before(before) || !resp.NextUpdate.After(before.Add(30*time.Minute)) {
						t.Errorf("ThisUpdate %v, NextUpdate %v: want a window around %v", resp.ThisUpdate, resp.NextUpdate, before)
					}
					if tc.want == ocsp.Revoked && !resp.RevokedAt.Equal(revokedAt) {
						t.Errorf("RevokedAt = %v, want %v", resp.RevokedAt, revokedAt)
					}
				})
			}
		}
	}
	if got, want := s.OCSP.Requests(), int64(3*2*3); got != want {
		t.Errorf("OCSP.Requests() = %d, want %d", got, want)
	}
	if got := s.CRL.Requests(); got != 0 {
		t.Errorf("CRL.Requests() = %d, want 0", got)
	}
}

func TestOCSPErrorResponses(t *testing.T) {
	ca := newCA(t, "root")
	other := newCA(t, "other root")
	s := New(t, ca.Cert, ca.Key)
	foreign := issueLeaf(t, other, s.OCSPURL(), "")
	foreignReq, err := ocsp.CreateRequest(foreign, other.Cert, nil)
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		form string
		der  []byte
		want ocsp.ResponseStatus
	}{
		{"other issuer", "POST", foreignReq, ocsp.Unauthorized},
		{"other issuer GET", "GET", foreignReq, ocsp.Unauthorized},
		{"garbage", "POST", []byte("not DER"), ocsp.Malformed},
		{"too large", "POST", make([]byte, maxOCSPRequest+1), ocsp.Malformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ocsp.ParseResponse(askOCSP(t, tc.form, s.OCSPURL(), tc.der), nil)
			var re ocsp.ResponseError
			if !errors.As(err, &re) || re.Status != tc.want {
				t.Fatalf("ParseResponse error = %v, want ResponseError %v", err, tc.want)
			}
		})
	}
}

func TestCRL(t *testing.T) {
	ca := newCA(t, "root")
	s := New(t, ca.Cert, ca.Key)
	fetch := func(t *testing.T) *x509.RevocationList {
		t.Helper()
		resp, err := http.Get(s.CRLURL())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		der, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", s.CRLURL(), resp.StatusCode, der)
		}
		crl, err := x509.ParseRevocationList(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := crl.CheckSignatureFrom(ca.Cert); err != nil {
			t.Fatalf("CRL signature: %v", err)
		}
		now := time.Now()
		if !crl.ThisUpdate.Before(now) || !crl.NextUpdate.After(now.Add(30*time.Minute)) {
			t.Errorf("ThisUpdate %v, NextUpdate %v: want a window around %v", crl.ThisUpdate, crl.NextUpdate, now)
		}
		return crl
	}

	first := fetch(t)
	if len(first.RevokedCertificateEntries) != 0 {
		t.Errorf("fresh CRL lists %d entries, want none", len(first.RevokedCertificateEntries))
	}
	if again := fetch(t); again.Number.Cmp(first.Number) != 0 {
		t.Errorf("CRL Number changed from %v to %v with no revocation", first.Number, again.Number)
	}

	at := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	s.Revoke(big.NewInt(42), at)
	s.Revoke(big.NewInt(7), at.Add(time.Hour))
	second := fetch(t)
	if second.Number.Cmp(first.Number) <= 0 {
		t.Errorf("CRL Number %v after a revocation, want more than %v", second.Number, first.Number)
	}
	want := map[int64]time.Time{7: at.Add(time.Hour), 42: at}
	if len(second.RevokedCertificateEntries) != len(want) {
		t.Fatalf("CRL lists %d entries, want %d", len(second.RevokedCertificateEntries), len(want))
	}
	for _, e := range second.RevokedCertificateEntries {
		if w, ok := want[e.SerialNumber.Int64()]; !ok || !e.RevocationTime.Equal(w) {
			t.Errorf("entry %v revoked at %v, want %v (listed: %v)", e.SerialNumber, e.RevocationTime, w, ok)
		}
	}
	if got := s.CRL.Requests(); got != 3 {
		t.Errorf("CRL.Requests() = %d, want 3", got)
	}
}

func TestFaults(t *testing.T) {
	ca := newCA(t, "root")
	s := New(t, ca.Cert, ca.Key)
	get := func(client *http.Client, u string) (int, error) {
		resp, err := client.Get(u)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	urls := []string{s.OCSPURL() + "/AAAA", s.CRLURL()}

	s.SetStatus(http.StatusServiceUnavailable)
	for _, u := range urls {
		if code, err := get(http.DefaultClient, u); err != nil || code != http.StatusServiceUnavailable {
			t.Errorf("GET %s with SetStatus(503): %d, %v", u, code, err)
		}
	}
	s.SetStatus(0)
	for _, u := range urls {
		if code, err := get(http.DefaultClient, u); err != nil || code != http.StatusOK {
			t.Errorf("GET %s after SetStatus(0): %d, %v", u, code, err)
		}
	}

	s.CRL.SetHang(true)
	client := &http.Client{Timeout: 300 * time.Millisecond}
	start := time.Now()
	_, err := get(client, s.CRLURL())
	var ue *url.Error
	if !errors.As(err, &ue) || !ue.Timeout() {
		t.Errorf("GET CRL while hung: %v, want a client timeout", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("hung GET returned after %v, want about the 300ms client timeout", d)
	}
	if code, err := get(client, urls[0]); err != nil || code != http.StatusOK {
		t.Errorf("OCSP while only the CRL hangs: %d, %v", code, err)
	}
	s.CRL.SetHang(false)

	if got, want := s.OCSP.Requests(), int64(3); got != want {
		t.Errorf("OCSP.Requests() = %d, want %d", got, want)
	}
	if got, want := s.CRL.Requests(), int64(3); got != want {
		t.Errorf("CRL.Requests() = %d, want %d", got, want)
	}
}

// TestHangEndsWithTheTest pins that a request hung with no client timeout
// is aborted at cleanup instead of blocking httptest.Server.Close forever.
func TestHangEndsWithTheTest(t *testing.T) {
	ca := newCA(t, "root")
	errc := make(chan error, 1)
	t.Run("inner", func(t *testing.T) {
		s := New(t, ca.Cert, ca.Key)
		s.SetHang(true)
		go func() {
			resp, err := http.Get(s.CRLURL())
			if err == nil {
				resp.Body.Close()
			}
			errc <- err
		}()
		deadline := time.Now().Add(5 * time.Second)
		for s.CRL.Requests() == 0 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
	})
	select {
	case err := <-errc:
		if err == nil {
			t.Error("hung request got an answer, want the connection dropped")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("hung request still open 5s after its test ended")
	}
}

// TestOCSPGetWithDoubleSlash pins the routing on the escaped path: a GET
// request whose base64 holds "//", sent unescaped, must not be cleaned or
// redirected as http.ServeMux would.
func TestOCSPGetWithDoubleSlash(t *testing.T) {
	ca := newCA(t, "root")
	s := New(t, ca.Cert, ca.Key)
	// No certificate is needed to find such a request: CreateRequest reads
	// only the serial and the issuer. 16 pseudo-random serial bytes give
	// "//" about once in 200 serials; the seed is fixed, so the search
	// always ends at the same serial.
	rng := rand.New(rand.NewChaCha8([32]byte{'w', 'a', 's', 'm', 'g', 'a', 't', 'e'}))
	for range 20000 {
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		leaf := &x509.Certificate{SerialNumber: new(big.Int).SetBytes(b)}
		der, err := ocsp.CreateRequest(leaf, ca.Cert, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(base64.StdEncoding.EncodeToString(der), "//") {
			continue
		}
		s.Revoke(leaf.SerialNumber, time.Now())
		resp, err := ocsp.ParseResponseForCert(askOCSP(t, "GET unescaped", s.OCSPURL(), der), leaf, ca.Cert)
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status != ocsp.Revoked {
			t.Errorf("Status = %d, want Revoked (%d)", resp.Status, ocsp.Revoked)
		}
		return
	}
	t.Fatal("no serial in 20000 gives a request with // in its base64")
}
