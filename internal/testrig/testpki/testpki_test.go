package testpki_test

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"

	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
)

// Every key type makes a chain that crypto/x509 verifies for code signing,
// and the profile Notary requires.
func TestChainsVerify(t *testing.T) {
	for _, kt := range testpki.KeyTypes() {
		t.Run(string(kt), func(t *testing.T) {
			t.Parallel()
			root := testpki.NewRoot(t, "root", kt)
			inter := root.NewIntermediate(t, "intermediate", kt)
			leaf := inter.Issue(t, testpki.LeafOptions{Key: kt})
			if len(leaf.Chain) != 3 || leaf.Chain[2] != root.Cert {
				t.Fatalf("chain: %d certificates", len(leaf.Chain))
			}
			roots, inters := x509.NewCertPool(), x509.NewCertPool()
			roots.AddCert(root.Cert)
			inters.AddCert(inter.Cert)
			if _, err := leaf.Cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}); err != nil {
				t.Fatal(err)
			}
			if leaf.Cert.KeyUsage != x509.KeyUsageDigitalSignature || leaf.Cert.IsCA {
				t.Errorf("leaf profile: key usage %v, CA %v", leaf.Cert.KeyUsage, leaf.Cert.IsCA)
			}
			if s := leaf.NotationSigner(t); s == nil {
				t.Fatal("no signer")
			}
		})
	}
}

func TestFailureCertificates(t *testing.T) {
	root := testpki.NewRoot(t, "root", testpki.P256)
	tls := root.TLSServer(t, "registry.example", testpki.P256)
	if len(tls.Cert.ExtKeyUsage) != 1 || tls.Cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("TLS EKU: %v", tls.Cert.ExtKeyUsage)
	}
	exp := root.Expired(t, testpki.P256)
	if _, err := exp.Cert.Verify(x509.VerifyOptions{Roots: pool(root.Cert), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err == nil {
		t.Error("expired leaf verifies")
	}
	noEKU := root.Issue(t, testpki.LeafOptions{NoExtKeyUsage: true, OCSPServer: []string{"http://127.0.0.1:1/ocsp"}, CRLDistributionPoints: []string{"http://127.0.0.1:1/crl"}})
	if len(noEKU.Cert.ExtKeyUsage) != 0 || noEKU.Cert.OCSPServer[0] == "" || noEKU.Cert.CRLDistributionPoints[0] == "" {
		t.Errorf("leaf options not applied: %+v", noEKU.Cert)
	}
}

// What WriteNotationTrust writes, notation-go reads.
func TestWriteNotationTrust(t *testing.T) {
	root := testpki.NewRoot(t, "root", testpki.P384)
	d := t.TempDir()
	path := testpki.WriteNotationTrust(t, d, "acme", []*x509.Certificate{root.Cert}, "")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(); err != nil {
		t.Fatal(err)
	}
	certs, err := truststore.NewX509TrustStore(dir.NewSysFS(d)).GetCertificates(t.Context(), truststore.TypeCA, "acme")
	if err != nil || len(certs) != 1 || !certs[0].Equal(root.Cert) {
		t.Fatalf("trust store: %v, %d certificates", err, len(certs))
	}
	if _, err := os.Stat(filepath.Join(d, "truststore", "x509", "ca", "acme", "root.pem")); err != nil {
		t.Fatal(err)
	}
}

func parse(raw []byte) (*trustpolicy.Document, error) {
	var doc trustpolicy.Document
	return &doc, json.Unmarshal(raw, &doc)
}

func pool(cs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range cs {
		p.AddCert(c)
	}
	return p
}
