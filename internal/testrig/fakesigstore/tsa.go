package fakesigstore

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"io"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
)

// tsaPolicy is the policy OID sigstore's timestamp-authority answers with.
var tsaPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}

// serveTSA answers an RFC 3161 timestamp query (DER, as sigstore-go's
// TimestampAuthority client posts it) with a signed timestamp.
func (s *Sigstore) serveTSA(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/timestamp-query" {
		http.Error(w, "content type "+ct+" is not application/timestamp-query", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		http.Error(w, "request body unreadable or too large", http.StatusBadRequest)
		return
	}
	req, err := timestamp.ParseRequest(body)
	if err != nil {
		http.Error(w, "timestamp query: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !req.HashAlgorithm.Available() || req.HashAlgorithm.Size() != len(req.HashedMessage) {
		http.Error(w, "message imprint does not match its hash algorithm", http.StatusBadRequest)
		return
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              time.Now(),
		Policy:            tsaPolicy,
		Nonce:             req.Nonce,
		AddTSACertificate: req.Certificates,
		ExtraExtensions:   req.Extensions,
	}
	if req.Certificates {
		// Real TSAs send the chain up to (not including) the root, so
		// verifiers that trust only the root can build the path.
		ts.Certificates = []*x509.Certificate{s.tsaInter}
	}
	resp, err := ts.CreateResponseWithOpts(s.tsaLeaf, s.tsaKey, crypto.SHA256)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	_, _ = w.Write(resp)
}
