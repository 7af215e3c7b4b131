package notation_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/tspclient-go"
	"github.com/opencontainers/go-digest"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/testrig/fakesigstore"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
)

var tinyBlob = []byte("\x00asm\x01\x00\x00\x00 a module signed as a blob")

// blobTrust writes a configuration directory trusting roots under the
// blob policy (default: one strict global statement) and loads it.
func blobTrust(t testing.TB, policy string, roots ...*x509.Certificate) *notation.BlobTrust {
	t.Helper()
	d := t.TempDir()
	p := testpki.WriteNotationBlobTrust(t, d, "wasmgate-test", roots, policy)
	tr, err := notation.LoadBlobTrust(p, d)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func verifyBlob(t testing.TB, blob, env []byte, trust *notation.BlobTrust, opts notation.BlobOptions) notation.Result {
	t.Helper()
	_, r, err := notation.VerifyBlob(testkit.Context(t), bytes.NewReader(blob), env, "", trust, opts)
	if err != nil {
		t.Fatal(err)
	}
	return *r
}

// Blob signatures as notation blob sign writes them, JWS and COSE, with
// keys whose digest is SHA-256 and SHA-384, verify; the descriptor
// returned is the blob's.
func TestVerifyBlob(t *testing.T) {
	for _, kt := range []testpki.KeyType{testpki.P256, testpki.P384} {
		p := newPKI(t, kt)
		trust := blobTrust(t, "", p.root.Cert)
		for _, env := range []string{jws.MediaTypeEnvelope, cose.MediaTypeEnvelope} {
			t.Run(string(kt)+"/"+env, func(t *testing.T) {
				sig := p.leaf.NotationSignBlob(t, tinyBlob, testpki.BlobSignOptions{Envelope: env})
				if got := notation.EnvelopeMediaType(sig); got != env {
					t.Errorf("EnvelopeMediaType = %q, want %q", got, env)
				}
				desc, r, err := notation.VerifyBlob(testkit.Context(t), bytes.NewReader(tinyBlob), sig, "", trust, notation.BlobOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if !r.Verified || r.Err != nil || r.Policy != "wasmgate-test" || r.Level != "strict" || r.Signer != p.leaf.Cert.Subject.String() {
					t.Fatalf("result: %+v", r)
				}
				alg := digest.SHA256
				if kt == testpki.P384 {
					alg = digest.SHA384
				}
				if desc.Digest != alg.FromBytes(tinyBlob) || desc.Size != int64(len(tinyBlob)) || desc.MediaType != notation.DefaultBlobMediaType {
					t.Errorf("descriptor: %+v", desc)
				}
				for _, c := range r.Checks {
					if c.Status != notation.StatusPassed {
						t.Errorf("check %+v", c)
					}
				}
			})
		}
	}
}

// Each way a blob signature can be wrong, once: its own reason, or, for
// what the caller configured wrong, an error and no verdict.
func TestVerifyBlobFailures(t *testing.T) {
	p := newPKI(t, testpki.P256)
	trust := blobTrust(t, "", p.root.Cert)
	jwsSig := p.leaf.NotationSignBlob(t, tinyBlob, testpki.BlobSignOptions{Envelope: jws.MediaTypeEnvelope})
	coseSig := p.leaf.NotationSignBlob(t, tinyBlob, testpki.BlobSignOptions{Envelope: cose.MediaTypeEnvelope,
		MediaType: "application/wasm", UserMetadata: map[string]string{"build": "42"}})

	t.Run("tampered blob", func(t *testing.T) {
		tampered := append(bytes.Clone(tinyBlob), '!')
		for _, sig := range [][]byte{jwsSig, coseSig} {
			r := verifyBlob(t, tampered, sig, trust, notation.BlobOptions{})
			wantErr(t, r, notation.ErrSubjectMismatch)
			if r.Signer == "" || !strings.Contains(r.Reason, digest.FromBytes(tinyBlob).String()) {
				t.Errorf("the reason does not name the signed digest: %q", r.Reason)
			}
		}
	})
	t.Run("another root in the trust store", func(t *testing.T) {
		other := testpki.NewRoot(t, "another root", testpki.P256)
		wantErr(t, verifyBlob(t, tinyBlob, coseSig, blobTrust(t, "", other.Cert), notation.BlobOptions{}), notation.ErrAuthenticity)
	})
	t.Run("policy name the policy lacks", func(t *testing.T) {
		_, _, err := notation.VerifyBlob(testkit.Context(t), bytes.NewReader(tinyBlob), jwsSig, "", trust, notation.BlobOptions{PolicyName: "nope"})
		var np *notation.NoBlobTrustPolicyError
		if !errors.Is(err, notation.ErrNoTrustPolicy) || !errors.As(err, &np) || np.Name != "nope" || np.Global != "wasmgate-test" {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("named statement, no global one", func(t *testing.T) {
		other := testpki.NewRoot(t, "another root", testpki.P256)
		// ca:others holds another root: the statement chosen decides.
		d := t.TempDir()
		testpki.WriteNotationBlobTrust(t, d, "wasmgate-test", []*x509.Certificate{p.root.Cert}, "")
		testpki.WritePEM(t, filepath.Join(d, filepath.FromSlash(dir.X509TrustStoreDir("ca", "others")), "other.pem"), other.Cert)
		policyPath := filepath.Join(d, "trustpolicy.blob.json")
		raw := `{"version": "1.0", "trustPolicies": [
  {"name": "others", "signatureVerification": {"level": "strict"}, "trustStores": ["ca:others"], "trustedIdentities": ["*"], "globalPolicy": true},
  {"name": "release", "signatureVerification": {"level": "strict"}, "trustStores": ["ca:wasmgate-test"], "trustedIdentities": ["*"]}]}`
		if err := os.WriteFile(policyPath, []byte(raw), 0o600); err != nil {
			t.Fatal(err)
		}
		two, err := notation.LoadBlobTrust(policyPath, d)
		if err != nil {
			t.Fatal(err)
		}
		if r := verifyBlob(t, tinyBlob, jwsSig, two, notation.BlobOptions{PolicyName: "release"}); !r.Verified || r.Policy != "release" {
			t.Fatalf("named: %+v", r)
		}
		wantErr(t, verifyBlob(t, tinyBlob, jwsSig, two, notation.BlobOptions{}), notation.ErrAuthenticity)

		noGlobal := strings.Replace(raw, `, "globalPolicy": true`, "", 1)
		if err := os.WriteFile(policyPath, []byte(noGlobal), 0o600); err != nil {
			t.Fatal(err)
		}
		tr, err := notation.LoadBlobTrust(policyPath, d)
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = notation.VerifyBlob(testkit.Context(t), bytes.NewReader(tinyBlob), jwsSig, "", tr, notation.BlobOptions{})
		var np *notation.NoBlobTrustPolicyError
		if !errors.As(err, &np) || np.Name != "" || len(np.Names) != 2 {
			t.Fatalf("no global statement: %v", err)
		}
	})
	t.Run("user metadata", func(t *testing.T) {
		r := verifyBlob(t, tinyBlob, coseSig, trust, notation.BlobOptions{UserMetadata: map[string]string{"build": "42"}})
		if !r.Verified {
			t.Fatalf("signed metadata: %+v", r)
		}
		wantErr(t, verifyBlob(t, tinyBlob, coseSig, trust, notation.BlobOptions{UserMetadata: map[string]string{"build": "43"}}), notation.ErrUserMetadata)
		wantErr(t, verifyBlob(t, tinyBlob, jwsSig, trust, notation.BlobOptions{UserMetadata: map[string]string{"build": "42"}}), notation.ErrUserMetadata)
	})
	t.Run("content media type", func(t *testing.T) {
		if r := verifyBlob(t, tinyBlob, coseSig, trust, notation.BlobOptions{MediaType: "application/wasm"}); !r.Verified {
			t.Fatalf("signed media type: %+v", r)
		}
		r := verifyBlob(t, tinyBlob, coseSig, trust, notation.BlobOptions{MediaType: notation.DefaultBlobMediaType})
		wantErr(t, r, notation.ErrSubjectMismatch)
		if !strings.Contains(r.Reason, "application/wasm") {
			t.Errorf("the reason does not name the signed media type: %q", r.Reason)
		}
		_, _, err := notation.VerifyBlob(testkit.Context(t), bytes.NewReader(tinyBlob), coseSig, "", trust, notation.BlobOptions{MediaType: "not a media type"})
		if !errors.Is(err, notation.ErrInvalidMediaType) {
			t.Fatalf("invalid media type: %v", err)
		}
	})
	t.Run("envelope over the limit", func(t *testing.T) {
		big := append(bytes.Clone(jwsSig), bytes.Repeat([]byte(" "), notation.MaxEnvelopeBytes)...)
		r := verifyBlob(t, tinyBlob, big, trust, notation.BlobOptions{})
		wantErr(t, r, notation.ErrMalformed)
		if !errors.Is(r.Err, artifact.ErrTooLarge) {
			t.Errorf("err = %v", r.Err)
		}
	})
	t.Run("blob over the limit", func(t *testing.T) {
		_, _, err := notation.VerifyBlob(testkit.Context(t), bytes.NewReader(tinyBlob), jwsSig, "", trust, notation.BlobOptions{MaxBlobBytes: 8})
		if !errors.Is(err, artifact.ErrTooLarge) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("not an envelope", func(t *testing.T) {
		_, _, err := notation.VerifyBlob(testkit.Context(t), bytes.NewReader(tinyBlob), []byte("-----BEGIN"), "", trust, notation.BlobOptions{})
		if !errors.Is(err, notation.ErrInvalidMediaType) {
			t.Fatalf("err = %v", err)
		}
		// Named as COSE, a JWS envelope does not parse.
		_, r, err := notation.VerifyBlob(testkit.Context(t), bytes.NewReader(tinyBlob), jwsSig, cose.MediaTypeEnvelope, trust, notation.BlobOptions{})
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, *r, notation.ErrMalformed)
	})
	t.Run("levels", func(t *testing.T) {
		other := testpki.NewRoot(t, "another root", testpki.P256)
		audit := `{"version": "1.0", "trustPolicies": [{"name": "audit", "signatureVerification": {"level": "audit"},
  "trustStores": ["ca:wasmgate-test"], "trustedIdentities": ["*"], "globalPolicy": true}]}`
		r := verifyBlob(t, tinyBlob, jwsSig, blobTrust(t, audit, other.Cert), notation.BlobOptions{})
		if !r.Verified || len(r.Logged()) != 1 || !errors.Is(r.Logged()[0].Err, notation.ErrAuthenticity) {
			t.Fatalf("audit, untrusted: %+v", r)
		}
		// Audit logs checks; the blob is still the one signed or nothing.
		wantErr(t, verifyBlob(t, []byte("another blob"), jwsSig, blobTrust(t, audit, other.Cert), notation.BlobOptions{}), notation.ErrSubjectMismatch)

		skip := `{"version": "1.0", "trustPolicies": [{"name": "skip", "signatureVerification": {"level": "skip"}, "globalPolicy": true}]}`
		desc, res, err := notation.VerifyBlob(testkit.Context(t), failingReader{t}, jwsSig, "", blobTrust(t, skip), notation.BlobOptions{})
		if err != nil || !res.Verified || res.Level != "skip" || desc.Digest != "" {
			t.Fatalf("skip: %v %+v %+v", err, res, desc)
		}
	})
}

type failingReader struct{ t testing.TB }

func (f failingReader) Read([]byte) (int, error) {
	f.t.Error("the blob was read under level skip")
	return 0, io.ErrUnexpectedEOF
}

// An expired signing certificate: ErrExpired without a "tsa:" store or
// without a countersignature, verified with a trusted RFC 3161 timestamp, as for OCI signatures. The
// TSA runs in the test.
func TestVerifyBlobTimestamp(t *testing.T) {
	t.Parallel()
	fake := fakesigstore.New(t, fakesigstore.Options{})
	tsa := fake.TimestampAuthority()
	p := newPKI(t, testpki.P256)
	notAfter := time.Now().Truncate(time.Second).Add(2 * time.Second)
	leaf := p.inter.Issue(t, testpki.LeafOptions{CommonName: "short-lived signer", NotAfter: notAfter})
	timestamper, err := tspclient.NewHTTPTimestamper(nil, fake.TSAURL)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(tsa.Root)
	stamped := leaf.NotationSignBlob(t, tinyBlob, testpki.BlobSignOptions{Envelope: cose.MediaTypeEnvelope, Timestamper: timestamper, TSARoots: pool})
	plain := leaf.NotationSignBlob(t, tinyBlob, testpki.BlobSignOptions{Envelope: jws.MediaTypeEnvelope})
	time.Sleep(time.Until(notAfter.Add(1100 * time.Millisecond)))

	d := t.TempDir()
	path := testpki.WriteNotationBlobTrust(t, d, "wasmgate-test", []*x509.Certificate{p.root.Cert},
		`{"version": "1.0", "trustPolicies": [{"name": "tsa", "signatureVerification": {"level": "strict"},
  "trustStores": ["ca:wasmgate-test", "tsa:acme-tsa"], "trustedIdentities": ["*"], "globalPolicy": true}]}`)
	testpki.WritePEM(t, filepath.Join(d, filepath.FromSlash(dir.X509TrustStoreDir("tsa", "acme-tsa")), "tsa-root.pem"), tsa.Root)
	withTSA, err := notation.LoadBlobTrust(path, d)
	if err != nil {
		t.Fatal(err)
	}
	r := verifyBlob(t, tinyBlob, stamped, withTSA, notation.BlobOptions{})
	if !r.Verified || !r.Timestamped {
		t.Fatalf("expired leaf, trusted timestamp: %+v", r)
	}
	wantErr(t, verifyBlob(t, tinyBlob, stamped, blobTrust(t, "", p.root.Cert), notation.BlobOptions{}), notation.ErrExpired)
	// No countersignature and the leaf expired: expired, whatever the
	// policy's TSA store (the mapping OCI signatures have).
	wantErr(t, verifyBlob(t, tinyBlob, plain, withTSA, notation.BlobOptions{}), notation.ErrExpired)
}

// What notation-go refuses in a blob trust policy, and what the blob
// document's own rules refuse, is a configuration error.
func TestLoadBlobTrustRefuses(t *testing.T) {
	root := testpki.NewRoot(t, "root", testpki.P256)
	stmt := func(extra string) string {
		return `{"name": "p", "signatureVerification": {"level": "strict"}, "trustStores": ["ca:wasmgate-test"], "trustedIdentities": ["*"]` + extra + `}`
	}
	for name, tc := range map[string]struct {
		policy string
		want   error
	}{
		"an OCI policy":     {`{"version": "1.0", "trustPolicies": [` + stmt(`, "registryScopes": ["*"]`) + `]}`, notation.ErrInvalidTrustPolicy},
		"version":           {`{"version": "2.0", "trustPolicies": [` + stmt("") + `]}`, notation.ErrInvalidTrustPolicy},
		"no statements":     {`{"version": "1.0", "trustPolicies": []}`, notation.ErrInvalidTrustPolicy},
		"duplicate names":   {`{"version": "1.0", "trustPolicies": [` + stmt("") + `,` + stmt("") + `]}`, notation.ErrInvalidTrustPolicy},
		"two global":        {`{"version": "1.0", "trustPolicies": [` + stmt(`, "globalPolicy": true`) + `,` + strings.Replace(stmt(`, "globalPolicy": true`), `"p"`, `"q"`, 1) + `]}`, notation.ErrInvalidTrustPolicy},
		"unknown level":     {`{"version": "1.0", "trustPolicies": [` + strings.Replace(stmt(""), "strict", "lenient", 1) + `]}`, notation.ErrInvalidTrustPolicy},
		"bad identity":      {`{"version": "1.0", "trustPolicies": [` + strings.Replace(stmt(""), `["*"]`, `["CN=x"]`, 1) + `]}`, notation.ErrInvalidTrustPolicy},
		"store not there":   {`{"version": "1.0", "trustPolicies": [` + strings.Replace(stmt(""), "ca:wasmgate-test", "ca:missing", 1) + `]}`, notation.ErrInvalidTrustStore},
		"skip with a store": {`{"version": "1.0", "trustPolicies": [` + strings.Replace(stmt(""), "strict", "skip", 1) + `]}`, notation.ErrInvalidTrustPolicy},
		"not JSON at all":   {`version: 1.0`, notation.ErrInvalidTrustPolicy},
		"unknown field":     {`{"version": "1.0", "trustPolicies": [` + stmt("") + `], "more": 1}`, notation.ErrInvalidTrustPolicy},
	} {
		t.Run(name, func(t *testing.T) {
			d := t.TempDir()
			p := testpki.WriteNotationBlobTrust(t, d, "wasmgate-test", []*x509.Certificate{root.Cert}, tc.policy)
			if _, err := notation.LoadBlobTrust(p, d); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

// LoadConfig finds the policies as notation does: trustpolicy.oci.json
// before trustpolicy.json, trustpolicy.blob.json beside them.
func TestLoadConfig(t *testing.T) {
	root := testpki.NewRoot(t, "root", testpki.P256)
	write := func(t *testing.T, d, name, content string) {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("old name only", func(t *testing.T) {
		d := t.TempDir()
		testpki.WriteNotationTrust(t, d, "wasmgate-test", []*x509.Certificate{root.Cert}, "")
		c, err := notation.LoadConfig(d)
		if err != nil || c.OCI == nil || c.Blob != nil || filepath.Base(c.OCIPolicy) != "trustpolicy.json" {
			t.Fatalf("%v %+v", err, c)
		}
	})
	t.Run("oci name wins, blob beside it", func(t *testing.T) {
		d := t.TempDir()
		testpki.WriteNotationBlobTrust(t, d, "wasmgate-test", []*x509.Certificate{root.Cert}, "")
		write(t, d, "trustpolicy.oci.json", policy(t, testpki.Policy{}))
		write(t, d, "trustpolicy.json", "not read")
		c, err := notation.LoadConfig(d)
		if err != nil || c.OCI == nil || c.Blob == nil || filepath.Base(c.OCIPolicy) != notation.PathOCITrustPolicy {
			t.Fatalf("%v %+v", err, c)
		}
		if names, global := c.Blob.Names(); len(names) != 1 || global != "wasmgate-test" {
			t.Errorf("blob statements %v, global %q", names, global)
		}
	})
	t.Run("a broken policy that is there", func(t *testing.T) {
		d := t.TempDir()
		testpki.WriteNotationTrust(t, d, "wasmgate-test", []*x509.Certificate{root.Cert}, "")
		write(t, d, notation.PathBlobTrustPolicy, `{"version": "1.0"}`)
		if _, err := notation.LoadConfig(d); !errors.Is(err, notation.ErrInvalidTrustPolicy) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("none", func(t *testing.T) {
		if _, err := notation.LoadConfig(t.TempDir()); !errors.Is(err, notation.ErrInvalidTrustPolicy) {
			t.Fatalf("err = %v", err)
		}
	})
}
