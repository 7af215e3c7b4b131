package sigstoretest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/sigstore/timestamp-authority/v2/pkg/verification"
)

// tsaPolicy is the policy sigstore's timestamp-authority answers with
// when the request names none.
var tsaPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 2}

// timestamp answers a DER timestamp request as sigstore's
// timestamp-authority does (pkg/api TimestampResponseHandler): the time in
// UTC with an accuracy of one second, the request's nonce, policy and
// extensions, and the signing certificate only if the request asks for it
// (certReq). GeneralizedTime has no fractions here, so the time is whole
// seconds.
func (s *Sigstore) timestamp(reqDER []byte, at time.Time) ([]byte, error) {
	req, err := timestamp.ParseRequest(reqDER)
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	if err := verification.VerifyRequest(req); err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	policy := req.TSAPolicyOID
	if len(policy) == 0 {
		policy = tsaPolicy
	}
	ts := timestamp.Timestamp{
		HashAlgorithm:     req.HashAlgorithm,
		HashedMessage:     req.HashedMessage,
		Time:              at.UTC(),
		Nonce:             req.Nonce,
		Policy:            policy,
		Accuracy:          time.Second,
		AddTSACertificate: req.Certificates,
		ExtraExtensions:   req.Extensions,
	}
	return ts.CreateResponseWithOpts(s.tsaLeaf, s.tsaKey, crypto.SHA256)
}

// tsaTransport serves the TSA in process to sigstore-go's TSA client
// (sign.TimestampAuthority), at a chosen time.
type tsaTransport struct {
	s  *Sigstore
	at time.Time
}

// RoundTrip answers a timestamp query as the TSA's HTTP API does.
func (tt tsaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	resp := &http.Response{
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{},
		Request: r,
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/timestamp-query" {
		resp.StatusCode = http.StatusUnsupportedMediaType
		resp.Body = io.NopCloser(bytes.NewReader([]byte("content type " + ct)))
		return resp, nil
	}
	tsr, err := tt.s.timestamp(body, tt.at)
	if err != nil {
		resp.StatusCode = http.StatusBadRequest
		resp.Body = io.NopCloser(bytes.NewReader([]byte(err.Error())))
		return resp, nil
	}
	resp.StatusCode = http.StatusCreated
	resp.Header.Set("Content-Type", "application/timestamp-reply")
	resp.Body = io.NopCloser(bytes.NewReader(tsr))
	resp.ContentLength = int64(len(tsr))
	return resp, nil
}

// certReqTimestamp asks the TSA for a timestamp over signature with
// certReq set and a nonce, as RFC 3161 clients that want the TSA's
// certificate in the response ask (sigstore-go's and cosign v3's clients
// do not).
func (s *Sigstore) certReqTimestamp(signature []byte, at time.Time) ([]byte, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req, err := timestamp.CreateRequest(bytes.NewReader(signature), &timestamp.RequestOptions{
		Hash: crypto.SHA256, Certificates: true, Nonce: nonce,
	})
	if err != nil {
		return nil, err
	}
	return s.timestamp(req, at)
}
