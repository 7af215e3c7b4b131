package testpki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"testing"
	"time"
)

// KeyType is the algorithm and size of a generated key.
type KeyType string

// The key types the Notary Project signature specification allows and the
// tests use.
const (
	RSA3072 KeyType = "rsa-3072"
	P256    KeyType = "ecdsa-p256"
	P384    KeyType = "ecdsa-p384"
)

// KeyTypes lists every key type, for tests that run over each.
func KeyTypes() []KeyType { return []KeyType{RSA3072, P256, P384} }

// NewKey generates a private key of type kt.
func NewKey(t testing.TB, kt KeyType) crypto.Signer {
	t.Helper()
	var (
		k   crypto.Signer
		err error
	)
	switch kt {
	case RSA3072:
		k, err = rsa.GenerateKey(rand.Reader, 3072)
	case P256:
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case P384:
		k, err = ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	default:
		t.Fatalf("testpki: unknown key type %q", kt)
	}
	if err != nil {
		t.Fatalf("testpki: generating a %s key: %v", kt, err)
	}
	return k
}

// CA is a certificate authority: a self-signed root or an intermediate.
type CA struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Chain is Cert and its issuers up to the root, in that order.
	Chain []*x509.Certificate
}

// Root returns the root at the end of the CA's chain.
func (ca *CA) Root() *x509.Certificate { return ca.Chain[len(ca.Chain)-1] }

// Validity of the certificates made here unless a test says otherwise:
// started an hour ago (clock skew) and valid for a day.
const (
	defaultBackdate = time.Hour
	defaultLifetime = 24 * time.Hour
)

// NewRoot makes a self-signed root CA named cn (CA basic constraints, key
// usage keyCertSign and cRLSign, path length 2).
func NewRoot(t testing.TB, cn string, kt KeyType) *CA {
	t.Helper()
	return newCA(t, cn, kt, nil, 2)
}

// NewIntermediate makes a CA named cn that ca issues (path length 0: it
// issues leaves only).
func (ca *CA) NewIntermediate(t testing.TB, cn string, kt KeyType) *CA {
	t.Helper()
	return newCA(t, cn, kt, ca, 0)
}

// newCA makes a CA named cn with a new key of type kt, issued by parent or
// self-signed when parent is nil.
func newCA(t testing.TB, cn string, kt KeyType, parent *CA, maxPathLen int) *CA {
	t.Helper()
	key := NewKey(t, kt)
	now := time.Now()
	tmpl := &x509.Certificate{
		Subject:               name(cn),
		NotBefore:             now.Add(-defaultBackdate),
		NotAfter:              now.Add(defaultLifetime),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            maxPathLen,
		MaxPathLenZero:        maxPathLen == 0,
	}
	if parent == nil {
		cert := create(t, tmpl, nil, key.Public(), key)
		return &CA{Cert: cert, Key: key, Chain: []*x509.Certificate{cert}}
	}
	cert := create(t, tmpl, parent.Cert, key.Public(), parent.Key)
	return &CA{Cert: cert, Key: key, Chain: append([]*x509.Certificate{cert}, parent.Chain...)}
}

// LeafOptions shape [CA.Issue]. The zero value is a P-256 code-signing
// leaf valid from an hour ago for a day.
type LeafOptions struct {
	// Subject defaults to CN=<CommonName>,O=wasmgate,ST=WA,C=US.
	Subject    pkix.Name
	CommonName string
	Key        KeyType // "" means P256
	// ExtKeyUsage defaults to codeSigning; NoExtKeyUsage leaves the
	// extension out (the Notary Project allows both).
	ExtKeyUsage   []x509.ExtKeyUsage
	NoExtKeyUsage bool
	// KeyUsage defaults to digitalSignature alone, as Notary requires.
	KeyUsage x509.KeyUsage
	// NotBefore and NotAfter default to an hour ago and a day ahead.
	NotBefore, NotAfter time.Time
	// OCSPServer and CRLDistributionPoints point a verifier at a
	// revocation service (internal/testrig/testrevocation serves both).
	OCSPServer            []string
	CRLDistributionPoints []string
	DNSNames              []string
}

// Leaf is an end-entity certificate and its key.
type Leaf struct {
	Cert *x509.Certificate
	Key  crypto.Signer
	// Chain is the leaf, its intermediates and the root, in that order: what
	// a Notary signer embeds.
	Chain []*x509.Certificate
}

// Issue makes a leaf certificate that ca signs.
func (ca *CA) Issue(t testing.TB, o LeafOptions) *Leaf {
	t.Helper()
	if o.Key == "" {
		o.Key = P256
	}
	if o.CommonName == "" {
		o.CommonName = "wasmgate test signer (TEST ONLY)"
	}
	if len(o.Subject.Names) == 0 && o.Subject.CommonName == "" {
		o.Subject = name(o.CommonName)
	}
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-defaultBackdate)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.Add(defaultLifetime)
	}
	if o.KeyUsage == 0 {
		o.KeyUsage = x509.KeyUsageDigitalSignature
	}
	eku := o.ExtKeyUsage
	if eku == nil && !o.NoExtKeyUsage {
		eku = []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}
	}
	if o.NoExtKeyUsage {
		eku = nil
	}
	key := NewKey(t, o.Key)
	cert := create(t, &x509.Certificate{
		Subject:               o.Subject,
		NotBefore:             o.NotBefore,
		NotAfter:              o.NotAfter,
		KeyUsage:              o.KeyUsage,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		OCSPServer:            o.OCSPServer,
		CRLDistributionPoints: o.CRLDistributionPoints,
		DNSNames:              o.DNSNames,
	}, ca.Cert, key.Public(), ca.Key)
	return &Leaf{Cert: cert, Key: key, Chain: append([]*x509.Certificate{cert}, ca.Chain...)}
}

// TLSServer issues a TLS server certificate for host (extended key usage
// serverAuth, key usage digitalSignature and keyEncipherment): valid X.509,
// but not a code-signing certificate, which Notary verifiers must refuse.
func (ca *CA) TLSServer(t testing.TB, host string, kt KeyType) *Leaf {
	t.Helper()
	return ca.Issue(t, LeafOptions{
		CommonName:  host,
		Key:         kt,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		DNSNames:    []string{host},
	})
}

// Expired issues a code-signing leaf whose validity ended an hour ago
// (it started two days ago).
func (ca *CA) Expired(t testing.TB, kt KeyType) *Leaf {
	t.Helper()
	now := time.Now()
	return ca.Issue(t, LeafOptions{
		CommonName: "wasmgate expired signer (TEST ONLY)",
		Key:        kt,
		NotBefore:  now.Add(-48 * time.Hour),
		NotAfter:   now.Add(-time.Hour),
	})
}

// name is CN=cn,O=wasmgate,ST=WA,C=US: Notation's trustedIdentities must
// name C, ST and O at least, so a subject that a policy can pin has them.
func name(cn string) pkix.Name {
	return pkix.Name{CommonName: cn, Organization: []string{"wasmgate"}, Province: []string{"WA"}, Country: []string{"US"}}
}

// create signs tmpl with parentKey; a nil parent makes it self-signed.
func create(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		t.Fatalf("testpki: certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
