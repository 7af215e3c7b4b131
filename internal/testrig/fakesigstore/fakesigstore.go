package fakesigstore

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

// DefaultIssuer is the OIDC issuer the fake Fulcio trusts unless
// [Options.Issuer] says otherwise. Nothing is served there: the fake knows
// the issuer's signing key.
const DefaultIssuer = "https://oidc.fakesigstore.test"

// Audience is the audience Fulcio requires of an ID token.
const Audience = "sigstore"

// Sigstore is a running fake Fulcio and TSA, both on 127.0.0.1.
type Sigstore struct {
	// FulcioURL is the base URL to give a Fulcio client.
	FulcioURL string
	// TSAURL is the full URL of the timestamp endpoint.
	TSAURL string
	// Issuer is the OIDC issuer whose tokens Fulcio accepts.
	Issuer string

	oidcKey *ecdsa.PrivateKey

	fulcioRoot, fulcioInter *x509.Certificate
	fulcioKey               crypto.Signer

	tsaRoot, tsaInter, tsaLeaf *x509.Certificate
	tsaKey                     crypto.Signer
}

// Options change a fake Sigstore. The zero value is a working one.
type Options struct {
	// Issuer is the OIDC issuer URL written into certificates; empty
	// means DefaultIssuer.
	Issuer string
}

// New starts a fake Fulcio and TSA that stop when the test ends.
func New(t testing.TB, opts Options) *Sigstore {
	t.Helper()
	s := &Sigstore{Issuer: opts.Issuer}
	if s.Issuer == "" {
		s.Issuer = DefaultIssuer
	}
	var err error
	if s.oidcKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
		t.Fatal(err)
	}
	var fk, tk *ecdsa.PrivateKey
	var rootKey, tsaRootKey *ecdsa.PrivateKey
	if s.fulcioRoot, rootKey, err = ca.GenerateRootCa(); err != nil {
		t.Fatal(err)
	}
	if s.fulcioInter, fk, err = ca.GenerateFulcioIntermediate(s.fulcioRoot, rootKey); err != nil {
		t.Fatal(err)
	}
	s.fulcioKey = fk
	if s.tsaRoot, tsaRootKey, err = ca.GenerateRootCa(); err != nil {
		t.Fatal(err)
	}
	if s.tsaInter, tk, err = ca.GenerateTSAIntermediate(s.tsaRoot, tsaRootKey); err != nil {
		t.Fatal(err)
	}
	if s.tsaLeaf, s.tsaKey, err = tsaLeaf(s.tsaInter, tk); err != nil {
		t.Fatal(err)
	}

	fulcio := httptest.NewServer(http.HandlerFunc(s.serveFulcio))
	t.Cleanup(fulcio.Close)
	s.FulcioURL = fulcio.URL
	tsa := httptest.NewServer(http.HandlerFunc(s.serveTSA))
	t.Cleanup(tsa.Close)
	s.TSAURL = tsa.URL + "/api/v1/timestamp"
	return s
}

// tsaLeaf is a timestamping leaf valid as long as its intermediate, with
// the extended key usage marked critical as RFC 3161 requires (and
// sigstore's verifier checks).
func tsaLeaf(parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial(),
		Subject:         pkix.Name{CommonName: "fakesigstore TSA", Organization: []string{"fakesigstore"}},
		NotBefore:       parent.NotBefore,
		NotAfter:        parent.NotAfter,
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}
	cert, err := issue(tmpl, parent, key.Public(), parentKey)
	return cert, key, err
}

func issue(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return n
}

// Claims are the claims of an ID token; zero fields get working defaults.
type Claims struct {
	// Issuer defaults to the fake's Issuer.
	Issuer string
	// Subject is the token's sub; with no Email it becomes the
	// certificate's URI SAN.
	Subject string
	// Email, when set, becomes the certificate's email SAN (and is marked
	// verified).
	Email string
	// Audience defaults to "sigstore".
	Audience string
	// Expiry defaults to ten minutes from now.
	Expiry time.Time
}

// IDToken is an ID token from the fake's OIDC issuer.
func (s *Sigstore) IDToken(t testing.TB, c Claims) string {
	t.Helper()
	tok, err := signToken(s.oidcKey, s.Issuer, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// ForgedIDToken is an ID token with the right claims signed by a key the
// fake does not trust.
func (s *Sigstore) ForgedIDToken(t testing.TB, c Claims) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := signToken(k, s.Issuer, c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type tokenClaims struct {
	jwt.Claims
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified,omitempty"`
}

func signToken(key *ecdsa.PrivateKey, issuer string, c Claims) (string, error) {
	if c.Issuer != "" {
		issuer = c.Issuer
	}
	if c.Audience == "" {
		c.Audience = Audience
	}
	now := time.Now()
	if c.Expiry.IsZero() {
		c.Expiry = now.Add(10 * time.Minute)
	}
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	cl := tokenClaims{
		Claims: jwt.Claims{
			Issuer: issuer, Subject: c.Subject, Audience: jwt.Audience{c.Audience},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now.Add(-time.Minute)),
			Expiry: jwt.NewNumericDate(c.Expiry),
		},
		Email: c.Email, EmailVerified: c.Email != "",
	}
	return jwt.Signed(sig).Claims(cl).Serialize()
}

// FulcioAuthority is the fake Fulcio's entry of a trusted root.
func (s *Sigstore) FulcioAuthority() *root.FulcioCertificateAuthority {
	return &root.FulcioCertificateAuthority{
		Root:                s.fulcioRoot,
		Intermediates:       []*x509.Certificate{s.fulcioInter},
		ValidityPeriodStart: s.fulcioRoot.NotBefore,
		URI:                 s.FulcioURL,
	}
}

// TimestampAuthority is the fake TSA's entry of a trusted root.
func (s *Sigstore) TimestampAuthority() *root.SigstoreTimestampingAuthority {
	return &root.SigstoreTimestampingAuthority{
		Root:                s.tsaRoot,
		Intermediates:       []*x509.Certificate{s.tsaInter},
		Leaf:                s.tsaLeaf,
		ValidityPeriodStart: s.tsaRoot.NotBefore,
		URI:                 s.TSAURL,
	}
}

// TrustedRoot is a sigstore trusted root that trusts the fake Fulcio and
// TSA (and no transparency or CT log). Each call builds a new one.
func (s *Sigstore) TrustedRoot(t testing.TB) *root.TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{s.FulcioAuthority()}, nil,
		[]root.TimestampingAuthority{s.TimestampAuthority()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TrustedRootJSON is [Sigstore.TrustedRoot] as trusted_root.json, for
// `--trusted-root FILE`.
func (s *Sigstore) TrustedRootJSON(t testing.TB) []byte {
	t.Helper()
	raw, err := s.TrustedRoot(t).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
