package sigstoretest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"sync"
	"testing"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// The service URLs of every deployment. The hostnames matter: the Rekor v2
// checkpoint origin is the hostname of its URL, as sigstore-go derives it,
// and the Rekor v1 checkpoint origin starts with the Rekor v1 hostname.
const (
	FulcioURL  = "https://fulcio.sigstoretest.example"
	CTLogURL   = "https://ctfe.sigstoretest.example/test"
	RekorV1URL = "https://rekor.sigstoretest.example"
	RekorV2URL = "https://log2025-1.rekor.sigstoretest.example"
	TSAURL     = "https://timestamp.sigstoretest.example/api/v1/timestamp"
)

// Options change a deployment. The zero value is the common case.
type Options struct {
	// Start is when the deployment begins: its CA certificates are valid
	// from then (for ten years), and so is every service in the trusted
	// root. Zero means 24 hours before New; set it to sign at earlier
	// [Sig.Time]s.
	Start time.Time
	// RekorV2ECDSA gives the Rekor v2 log an ECDSA P-256 key instead of an
	// Ed25519 one (the key type of log2025-1.rekor.sigstore.dev). The two
	// make different checkpoint key IDs and log IDs.
	RekorV2ECDSA bool
}

// Sigstore is one deployment: Fulcio, a CT log, Rekor v1, Rekor v2 and a
// timestamp authority, each with its own keys. It is safe for concurrent
// use.
type Sigstore struct {
	start time.Time

	fulcioRoot, fulcioInter *x509.Certificate
	fulcioKey               crypto.Signer

	ctLog, unknownCTLog *ctLog

	tsaRoot, tsaInter, tsaLeaf *x509.Certificate
	tsaKey                     crypto.Signer

	v1 *rekorV1
	v2 *rekorV2

	// rekorAlgorithms are the signing algorithms both Rekors accept (the
	// rekor-tiles default, internal/algorithmregistry).
	rekorAlgorithms *signature.AlgorithmRegistryConfig

	mu        sync.Mutex
	witnesses []*witness
}

// caValidity is how long the deployment's CA certificates are valid.
const caValidity = 10 * 365 * 24 * time.Hour

// New makes a deployment with fresh keys.
func New(t testing.TB, opts Options) *Sigstore {
	t.Helper()
	start := opts.Start
	if start.IsZero() {
		start = time.Now().Add(-24 * time.Hour)
	}
	s := &Sigstore{start: start.UTC().Truncate(time.Second)}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("sigstoretest: %v", err)
		}
	}
	var err error

	// Fulcio: P-384 root and intermediate, as fulcio.sigstore.dev.
	rootKey := newECDSA(t, elliptic.P384())
	s.fulcioRoot, err = s.ca(pkix.Name{Organization: []string{"sigstore.dev"}, CommonName: "sigstore"}, nil, rootKey, nil, rootKey)
	must(err)
	interKey := newECDSA(t, elliptic.P384())
	s.fulcioInter, err = s.ca(pkix.Name{Organization: []string{"sigstore.dev"}, CommonName: "sigstore-intermediate"},
		[]x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}, interKey, s.fulcioRoot, rootKey)
	must(err)
	s.fulcioKey = interKey

	s.ctLog, err = newCTLog(newECDSA(t, elliptic.P256()))
	must(err)
	s.unknownCTLog, err = newCTLog(newECDSA(t, elliptic.P256()))
	must(err)

	// TSA: root and intermediate, and a P-256 leaf with the critical
	// timeStamping EKU.
	tsaRootKey := newECDSA(t, elliptic.P384())
	s.tsaRoot, err = s.ca(pkix.Name{Organization: []string{"sigstore.dev"}, CommonName: "sigstore-tsa-selfsigned"}, nil, tsaRootKey, nil, tsaRootKey)
	must(err)
	tsaInterKey := newECDSA(t, elliptic.P384())
	s.tsaInter, err = s.ca(pkix.Name{Organization: []string{"sigstore.dev"}, CommonName: "sigstore-tsa-intermediate"},
		[]x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}, tsaInterKey, s.tsaRoot, tsaRootKey)
	must(err)
	tsaLeafKey := newECDSA(t, elliptic.P256())
	s.tsaLeaf, err = s.tsaLeafCert(tsaLeafKey, tsaInterKey)
	must(err)
	s.tsaKey = tsaLeafKey

	s.v1, err = newRekorV1(newECDSA(t, elliptic.P256()))
	must(err)
	var v2Key crypto.Signer
	if opts.RekorV2ECDSA {
		v2Key = newECDSA(t, elliptic.P256())
	} else {
		_, edKey, err := ed25519.GenerateKey(rand.Reader)
		must(err)
		v2Key = edKey
	}
	s.v2, err = newRekorV2(v2Key)
	must(err)

	s.rekorAlgorithms, err = signature.NewAlgorithmRegistryConfig([]protocommon.PublicKeyDetails{
		protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_2048_SHA256,
		protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_3072_SHA256,
		protocommon.PublicKeyDetails_PKIX_RSA_PKCS1V15_4096_SHA256,
		protocommon.PublicKeyDetails_PKIX_ECDSA_P256_SHA_256,
		protocommon.PublicKeyDetails_PKIX_ECDSA_P384_SHA_384,
		protocommon.PublicKeyDetails_PKIX_ECDSA_P521_SHA_512,
		protocommon.PublicKeyDetails_PKIX_ED25519,
		protocommon.PublicKeyDetails_PKIX_ED25519_PH,
	})
	must(err)
	return s
}

// Start is when the deployment begins (see [Options.Start]).
func (s *Sigstore) Start() time.Time { return s.start }

func newECDSA(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatalf("sigstoretest: %v", err)
	}
	return k
}

// ca makes a CA certificate valid from the deployment's start; parent nil
// makes it self-signed.
func (s *Sigstore) ca(subject pkix.Name, eku []x509.ExtKeyUsage, key crypto.Signer, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, error) {
	serial, err := cryptoutils.GenerateSerialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             s.start,
		NotAfter:              s.start.Add(caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           eku,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	if parent == nil {
		parent = tmpl
	} else {
		tmpl.MaxPathLenZero = true
	}
	return createCertificate(tmpl, parent, key.Public(), parentKey)
}

// tsaLeafCert is the TSA's signing certificate: digitalSignature, and the
// extended key usage timeStamping alone and critical, as RFC 3161 requires
// and sigstore's timestamp verification checks.
func (s *Sigstore) tsaLeafCert(key, parentKey crypto.Signer) (*x509.Certificate, error) {
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, err
	}
	serial, err := cryptoutils.GenerateSerialNumber()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:    serial,
		Subject:         pkix.Name{Organization: []string{"sigstore.dev"}, CommonName: "sigstore-tsa"},
		NotBefore:       s.start,
		NotAfter:        s.start.Add(caValidity),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}
	return createCertificate(tmpl, s.tsaInter, key.Public(), parentKey)
}

func createCertificate(tmpl, parent *x509.Certificate, pub crypto.PublicKey, parentKey crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, parentKey)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// Service names a part of the deployment in the trusted root.
type Service int

// The services of a deployment, as the trusted root lists them.
const (
	ServiceFulcio Service = iota + 1
	ServiceCTLog
	ServiceRekorV1
	ServiceRekorV2
	ServiceTSA
)

// String names the service.
func (v Service) String() string {
	switch v {
	case ServiceFulcio:
		return "Fulcio"
	case ServiceCTLog:
		return "CT log"
	case ServiceRekorV1:
		return "Rekor v1"
	case ServiceRekorV2:
		return "Rekor v2"
	case ServiceTSA:
		return "TSA"
	}
	return "unknown service"
}

// RootOption changes the trusted root [Sigstore.TrustedRoot] makes.
type RootOption func(*rootConfig)

type rootConfig struct {
	omit     map[Service]bool
	validFor map[Service][2]time.Time
}

// Without leaves services out of the trusted root.
func Without(services ...Service) RootOption {
	return func(c *rootConfig) {
		for _, v := range services {
			c.omit[v] = true
		}
	}
}

// ValidFor sets a service's validFor window in the trusted root. A zero
// start keeps the deployment's start; a zero end leaves the window open.
// The end is inclusive, as sigstore-go reads it: ValidFor(ServiceTSA,
// time.Time{}, signed.TimestampTime) still accepts that timestamp.
func ValidFor(v Service, start, end time.Time) RootOption {
	return func(c *rootConfig) { c.validFor[v] = [2]time.Time{start, end} }
}

// TrustedRoot is the deployment's trusted root: the Fulcio CA
// (intermediate and root), the CT log, both Rekor logs and the TSA (leaf,
// intermediate and root), each valid from the deployment's start with no
// end unless opts say otherwise. It is the parsed form of
// [Sigstore.TrustedRootJSON], so both say the same thing.
func (s *Sigstore) TrustedRoot(t testing.TB, opts ...RootOption) *root.TrustedRoot {
	t.Helper()
	tr, err := root.NewTrustedRootFromJSON(s.TrustedRootJSON(t, opts...))
	if err != nil {
		t.Fatalf("sigstoretest: parsing the trusted root: %v", err)
	}
	return tr
}

// TrustedRootJSON is the trusted root as trusted_root.json (media type
// application/vnd.dev.sigstore.trustedroot+json;version=0.1), made with
// root.NewTrustedRoot and MarshalJSON, for `--trusted-root FILE`.
func (s *Sigstore) TrustedRootJSON(t testing.TB, opts ...RootOption) []byte {
	t.Helper()
	c := &rootConfig{omit: map[Service]bool{}, validFor: map[Service][2]time.Time{}}
	for _, o := range opts {
		o(c)
	}
	window := func(v Service) (time.Time, time.Time) {
		w, ok := c.validFor[v]
		if !ok || w[0].IsZero() {
			w[0] = s.start
		}
		return w[0], w[1]
	}

	var cas []root.CertificateAuthority
	if !c.omit[ServiceFulcio] {
		start, end := window(ServiceFulcio)
		cas = append(cas, &root.FulcioCertificateAuthority{
			Root: s.fulcioRoot, Intermediates: []*x509.Certificate{s.fulcioInter},
			ValidityPeriodStart: start, ValidityPeriodEnd: end, URI: FulcioURL,
		})
	}
	ctLogs := map[string]*root.TransparencyLog{}
	if !c.omit[ServiceCTLog] {
		start, end := window(ServiceCTLog)
		ctLogs[s.ctLog.hexID()] = s.ctLog.trusted(start, end)
	}
	var tsas []root.TimestampingAuthority
	if !c.omit[ServiceTSA] {
		start, end := window(ServiceTSA)
		tsas = append(tsas, &root.SigstoreTimestampingAuthority{
			Root: s.tsaRoot, Intermediates: []*x509.Certificate{s.tsaInter}, Leaf: s.tsaLeaf,
			ValidityPeriodStart: start, ValidityPeriodEnd: end, URI: TSAURL,
		})
	}
	rekorLogs := map[string]*root.TransparencyLog{}
	if !c.omit[ServiceRekorV1] {
		start, end := window(ServiceRekorV1)
		rekorLogs[s.v1.hexID()] = s.v1.trusted(start, end)
	}
	if !c.omit[ServiceRekorV2] {
		start, end := window(ServiceRekorV2)
		rekorLogs[s.v2.hexID()] = s.v2.trusted(start, end)
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, ctLogs, tsas, rekorLogs)
	if err != nil {
		t.Fatalf("sigstoretest: %v", err)
	}
	raw, err := tr.MarshalJSON()
	if err != nil {
		t.Fatalf("sigstoretest: %v", err)
	}
	return raw
}

// FulcioChain is the Fulcio intermediate and root, for verifiers that take
// a certificate chain instead of a trusted root.
func (s *Sigstore) FulcioChain() []*x509.Certificate {
	return []*x509.Certificate{s.fulcioInter, s.fulcioRoot}
}

// TSAChain is the TSA leaf, intermediate and root.
func (s *Sigstore) TSAChain() []*x509.Certificate {
	return []*x509.Certificate{s.tsaLeaf, s.tsaInter, s.tsaRoot}
}
