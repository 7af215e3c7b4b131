package fakesigstore

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Fulcio's OIDC issuer extensions: the raw string (deprecated) and the
// DER UTF8String that replaced it.
var (
	oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}
	oidIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8}
)

// maxRequestBytes bounds a request body; a real one is under 1 KiB.
const maxRequestBytes = 64 << 10

// The JSON of Fulcio's v2 API, as sigstore-go v1.3.0 (pkg/sign/certificate.go)
// sends and reads it.
type signingCertRequest struct {
	PublicKeyRequest struct {
		PublicKey struct {
			Algorithm string `json:"algorithm"`
			Content   string `json:"content"`
		} `json:"publicKey"`
		ProofOfPossession string `json:"proofOfPossession"`
	} `json:"publicKeyRequest"`
}

type signingCertResponse struct {
	SignedCertificateDetachedSct struct {
		Chain struct {
			Certificates []string `json:"certificates"`
		} `json:"chain"`
	} `json:"signedCertificateDetachedSct"`
}

func (s *Sigstore) serveFulcio(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/api/v2/signingCert" {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		http.Error(w, "no bearer token", http.StatusUnauthorized)
		return
	}
	claims, err := s.verifyToken(tok)
	if err != nil {
		http.Error(w, "identity token: "+err.Error(), http.StatusUnauthorized)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBytes+1))
	if err != nil || len(body) > maxRequestBytes {
		http.Error(w, "request body unreadable or too large", http.StatusBadRequest)
		return
	}
	var req signingCertRequest
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "request: "+err.Error(), http.StatusBadRequest)
		return
	}
	chain, err := s.certify(claims, req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var resp signingCertResponse
	for _, c := range chain {
		resp.SignedCertificateDetachedSct.Chain.Certificates = append(resp.SignedCertificateDetachedSct.Chain.Certificates,
			string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})))
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(resp)
}

// verifyToken checks what Fulcio checks of an ID token: its signature by
// the issuer, the issuer, the audience and the time.
func (s *Sigstore) verifyToken(raw string) (*tokenClaims, error) {
	tok, err := jwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, err
	}
	var c tokenClaims
	if err := tok.Claims(&s.oidcKey.PublicKey, &c); err != nil {
		return nil, err
	}
	if err := c.ValidateWithLeeway(jwt.Expected{Issuer: s.Issuer, AnyAudience: jwt.Audience{Audience}, Time: time.Now()}, time.Minute); err != nil {
		return nil, err
	}
	return &c, nil
}

// certify checks the proof of possession and issues the leaf; it returns
// the chain leaf first, root last, as Fulcio does.
func (s *Sigstore) certify(c *tokenClaims, req signingCertRequest) ([]*x509.Certificate, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey([]byte(req.PublicKeyRequest.PublicKey.Content))
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	pop, err := base64.StdEncoding.DecodeString(req.PublicKeyRequest.ProofOfPossession)
	if err != nil {
		return nil, fmt.Errorf("proof of possession: %w", err)
	}
	// The signed subject is the email when the token has one, else sub.
	subject := c.Subject
	if c.Email != "" {
		if !c.EmailVerified {
			return nil, errors.New("email not verified by the identity provider")
		}
		subject = c.Email
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	if err := v.VerifySignature(bytes.NewReader(pop), bytes.NewReader([]byte(subject))); err != nil {
		return nil, fmt.Errorf("proof of possession does not verify: %w", err)
	}

	issuerExt, err := asn1.MarshalWithParams(c.Issuer, "utf8")
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial(),
		NotBefore:    now,
		NotAfter:     now.Add(10 * time.Minute),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		ExtraExtensions: []pkix.Extension{
			{Id: oidIssuerV1, Value: []byte(c.Issuer)},
			{Id: oidIssuerV2, Value: issuerExt},
		},
	}
	if c.Email != "" {
		tmpl.EmailAddresses = []string{c.Email}
	} else {
		u, err := url.Parse(c.Subject)
		if err != nil || u.Scheme == "" {
			return nil, fmt.Errorf("subject %q is neither an email nor a URI", c.Subject)
		}
		tmpl.URIs = []*url.URL{u}
	}
	leaf, err := issue(tmpl, s.fulcioInter, pub, s.fulcioKey)
	if err != nil {
		return nil, err
	}
	return []*x509.Certificate{leaf, s.fulcioInter, s.fulcioRoot}, nil
}
