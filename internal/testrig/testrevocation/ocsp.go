package testrevocation

import (
	"bytes"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
)

// maxOCSPRequest bounds a request body or GET path: a real request with one
// CertID is about 100 bytes.
const maxOCSPRequest = 16 << 10

// serveOCSP answers an RFC 6960 request. rest is the escaped path after
// ocspPath: empty for POST, "/" + url-escaped base64 for GET. Protocol
// errors are OCSP error responses with HTTP 200, as responders send them.
func (s *Server) serveOCSP(w http.ResponseWriter, r *http.Request, rest string) {
	var der []byte
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, maxOCSPRequest+1))
		if err != nil || len(body) > maxOCSPRequest {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		der = body
	case http.MethodGet:
		enc, err := url.PathUnescape(strings.TrimPrefix(rest, "/"))
		if err != nil || enc == "" || len(enc) > maxOCSPRequest {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
		if der, err = base64.StdEncoding.DecodeString(enc); err != nil {
			writeOCSP(w, ocsp.MalformedRequestErrorResponse)
			return
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	req, err := ocsp.ParseRequest(der)
	if err != nil {
		writeOCSP(w, ocsp.MalformedRequestErrorResponse)
		return
	}
	if !s.issued(req) {
		writeOCSP(w, ocsp.UnauthorizedErrorResponse)
		return
	}
	resp, err := ocsp.CreateResponse(s.issuer, s.issuer, s.status(req), s.key)
	if err != nil {
		writeOCSP(w, ocsp.InternalErrorErrorResponse)
		return
	}
	writeOCSP(w, resp)
}

// issued reports whether the request's CertID names this server's issuer.
func (s *Server) issued(req *ocsp.Request) bool {
	h := req.HashAlgorithm
	if !h.Available() {
		return false
	}
	sum := func(b []byte) []byte {
		d := h.New()
		d.Write(b)
		return d.Sum(nil)
	}
	return bytes.Equal(req.IssuerNameHash, sum(s.issuer.RawSubject)) &&
		bytes.Equal(req.IssuerKeyHash, sum(s.issuerKey))
}

// status is the answer template for the request's serial number.
func (s *Server) status(req *ocsp.Request) ocsp.Response {
	now := time.Now()
	tmpl := ocsp.Response{
		Status:       ocsp.Good,
		SerialNumber: req.SerialNumber,
		ThisUpdate:   now.Add(-backdate),
		NextUpdate:   now.Add(validity),
		IssuerHash:   req.HashAlgorithm, // answer with the CertID it was asked
	}
	key := req.SerialNumber.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if rv, ok := s.revoked[key]; ok {
		tmpl.Status = ocsp.Revoked
		tmpl.RevokedAt = rv.at
		tmpl.RevocationReason = ocsp.Unspecified
	} else if s.unknown[key] {
		tmpl.Status = ocsp.Unknown
	}
	return tmpl
}

func writeOCSP(w http.ResponseWriter, b []byte) {
	w.Header().Set("Content-Type", "application/ocsp-response")
	_, _ = w.Write(b)
}
