package testrevocation

import (
	"crypto/x509"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
)

// newCA is a root CA made in the test: what Notation's trust store would
// hold, and the issuer a Server answers for.
func newCA(t testing.TB, name string) *testpki.CA {
	t.Helper()
	return testpki.NewRoot(t, name, testpki.P256)
}

// issueLeaf issues a code-signing certificate from ca that points at the
// given revocation endpoints (either may be empty).
func issueLeaf(t testing.TB, ca *testpki.CA, ocspURL, crlURL string) *x509.Certificate {
	t.Helper()
	o := testpki.LeafOptions{CommonName: "signer"}
	if ocspURL != "" {
		o.OCSPServer = []string{ocspURL}
	}
	if crlURL != "" {
		o.CRLDistributionPoints = []string{crlURL}
	}
	return ca.Issue(t, o).Cert
}
