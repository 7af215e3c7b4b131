package notation_test

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature/jws"
	notationgo "github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/tspclient-go"

	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/testrig/fakesigstore"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// An RFC 3161 countersignature from a TSA in the policy's "tsa:" store
// keeps a signature valid after its signing certificate expired, as
// Notation defines it; without the TSA store the same signature is
// expired. The TSA runs in the test (real certificates; no public TSA is
// reachable here).
func TestAuthenticTimestamp(t *testing.T) {
	fake := fakesigstore.New(t, fakesigstore.Options{})
	tsa := fake.TimestampAuthority()
	p := newPKI(t, testpki.P256)
	reg := testregistry.GGCR(t)
	s := open(t, reg, "wasm/tiny")
	subject := peers.PushSubject(t, reg, "wasm/tiny")

	notAfter := time.Now().Truncate(time.Second).Add(2 * time.Second)
	leaf := p.inter.Issue(t, testpki.LeafOptions{CommonName: "short-lived signer", NotAfter: notAfter})
	timestamper, err := tspclient.NewHTTPTimestamper(nil, fake.TSAURL)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(tsa.Root)
	if _, err := notationgo.Sign(testkit.Context(t), leaf.NotationSigner(t), registry.NewRepository(reg.Repository(t, "wasm/tiny")), notationgo.SignOptions{
		SignerSignOptions: notationgo.SignerSignOptions{SignatureMediaType: jws.MediaTypeEnvelope, Timestamper: timestamper, TSARootCAs: pool},
		ArtifactReference: reg.Ref("wasm/tiny", subject.Digest.String()),
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))

	d := t.TempDir()
	path := testpki.WriteNotationTrust(t, d, "wasmgate-test", []*x509.Certificate{p.root.Cert},
		policy(t, testpki.Policy{TrustStores: []string{"ca:wasmgate-test", "tsa:acme-tsa"}}))
	tsaStore := filepath.Join(d, filepath.FromSlash(dir.X509TrustStoreDir("tsa", "acme-tsa")))
	if err := os.MkdirAll(tsaStore, 0o700); err != nil {
		t.Fatal(err)
	}
	testpki.WritePEM(t, filepath.Join(tsaStore, "tsa-root.pem"), tsa.Root)
	withTSA, err := notation.LoadTrust(path, d)
	if err != nil {
		t.Fatal(err)
	}
	r := s.one(t, subject, withTSA)
	if !r.Verified || !r.Timestamped {
		t.Fatalf("expired leaf with a trusted timestamp: %+v", r)
	}
	if c := check(r, notation.CheckAuthenticTimestamp); c.Status != notation.StatusPassed {
		t.Errorf("authenticTimestamp: %+v", c)
	}

	r = s.one(t, subject, trustRoots(t, "", p.root.Cert))
	wantErr(t, r, notation.ErrExpired)
}
