package peers

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/signer"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasregistry "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
)

// Notation envelopes, the envelope argument of [NotationSign].
const (
	NotationJWS  = "jws"  // application/jose+json
	NotationCOSE = "cose" // application/cose
)

// NotationKey makes an ECDSA P-256 signing key and a two-certificate chain
// for it, valid for a day: a self-signed root CA (basic constraints CA,
// key usage keyCertSign) and a leaf it issued (key usage digitalSignature
// only, extended key usage codeSigning), the profile the Notary Project
// requires. It returns a notation-go signer holding them, the chain as PEM
// (leaf first, as in a notation signing certificate file) and the root as
// PEM, which is what a verifier's trust store holds.
func NotationKey(t testing.TB) (notation.Signer, []byte, []byte) {
	t.Helper()
	now := time.Now()
	rootKey := newECKey(t)
	root := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "wasmgate test root (TEST ONLY)", Organization: []string{"wasmgate"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            1,
	}, nil, rootKey, rootKey)
	leafKey := newECKey(t)
	leaf := issue(t, &x509.Certificate{
		Subject:               pkix.Name{CommonName: "wasmgate test signer (TEST ONLY)", Organization: []string{"wasmgate"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}, root, leafKey, rootKey)
	s, err := signer.NewGenericSigner(leafKey, []*x509.Certificate{leaf, root})
	if err != nil {
		t.Fatalf("peers: notation signer: %v", err)
	}
	certPEM := append(pemCert(leaf), pemCert(root)...)
	return s, certPEM, pemCert(root)
}

func newECKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// issue signs tmpl with parentKey; a nil parent makes it self-signed.
func issue(t testing.TB, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatalf("peers: certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func pemCert(c *x509.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}

func envelopeMediaType(t testing.TB, envelope string) string {
	t.Helper()
	switch envelope {
	case NotationJWS:
		return jws.MediaTypeEnvelope
	case NotationCOSE:
		return cose.MediaTypeEnvelope
	default:
		t.Fatalf("peers: notation envelope %q: want %q or %q", envelope, NotationJWS, NotationCOSE)
		return ""
	}
}

// NotationSign signs refWithDigest (HOST/REPO@sha256:…, in remoteRepo)
// with s in the given envelope ([NotationJWS] or [NotationCOSE]) through
// notation.Sign, exactly as `notation sign` does, and returns the
// descriptor of the signature manifest it pushed.
//
// remoteRepo decides the fallback tag: the notation CLI calls
// SetReferrersCapability(false) by default (--force-referrers-tag), so the
// sha256-<hex> tag is written on every registry; with
// SetReferrersCapability(true) it is not; left alone, oras-go writes it when
// the registry answers the manifest PUT without OCI-Subject.
func NotationSign(t testing.TB, s notation.Signer, remoteRepo *remote.Repository, refWithDigest, envelope string) ocispec.Descriptor {
	t.Helper()
	mediaType := envelopeMediaType(t, envelope)
	checkSameRepo(t, remoteRepo, refWithDigest)
	repo := &capturingRepo{Repository: registry.NewRepository(remoteRepo)}
	subject, err := notation.Sign(t.Context(), s, repo, notation.SignOptions{
		SignerSignOptions: notation.SignerSignOptions{SignatureMediaType: mediaType},
		ArtifactReference: refWithDigest,
	})
	if err != nil {
		t.Fatalf("peers: notation sign (%s) %s: %v", envelope, refWithDigest, err)
	}
	if subject.Digest.String() != refDigest(t, refWithDigest) {
		t.Fatalf("peers: notation signed %s, asked for %s", subject.Digest, refWithDigest)
	}
	return repo.manifest
}

// capturingRepo keeps the signature manifest descriptor, which
// notation.Sign does not return.
type capturingRepo struct {
	registry.Repository
	manifest ocispec.Descriptor
}

func (r *capturingRepo) PushSignature(ctx context.Context, mediaType string, blob []byte, subject ocispec.Descriptor, annotations map[string]string) (ocispec.Descriptor, ocispec.Descriptor, error) {
	blobDesc, manifestDesc, err := r.Repository.PushSignature(ctx, mediaType, blob, subject, annotations)
	r.manifest = manifestDesc
	return blobDesc, manifestDesc, err
}

func checkSameRepo(t testing.TB, remoteRepo *remote.Repository, ref string) {
	t.Helper()
	r, err := orasregistry.ParseReference(ref)
	if err != nil {
		t.Fatalf("peers: %q: %v", ref, err)
	}
	if r.Registry != remoteRepo.Reference.Registry || r.Repository != remoteRepo.Reference.Repository {
		t.Fatalf("peers: %s is not in repository %s", ref, remoteRepo.Reference)
	}
	if _, err := r.Digest(); err != nil {
		t.Fatalf("peers: %s: sign by digest, not by tag: %v", ref, err)
	}
}

func refDigest(t testing.TB, ref string) string {
	t.Helper()
	r, err := orasregistry.ParseReference(ref)
	if err != nil {
		t.Fatal(err)
	}
	return r.Reference
}

// NotationTrust is what a Notary Project verifier needs to trust the
// signatures of one [NotationKey]: a notation configuration directory laid
// out as the notation CLI expects ($XDG_CONFIG_HOME/notation).
type NotationTrust struct {
	// Dir holds trustpolicy.json and truststore/x509/ca/<Store>/root.pem.
	Dir string
	// Store is the trust store's name; the policy names it "ca:<Store>".
	Store string
	// Policy is trustpolicy.json: one strict statement for every
	// repository ("*"), trusting any identity the root issued.
	Policy []byte
}

// NotationVerifyMaterial writes a trust policy and a trust store holding
// rootPEM into a new temporary directory.
func NotationVerifyMaterial(t testing.TB, rootPEM []byte) NotationTrust {
	t.Helper()
	tr := NotationTrust{Dir: t.TempDir(), Store: "wasmgate-test"}
	doc := trustpolicy.Document{
		Version: "1.0",
		TrustPolicies: []trustpolicy.TrustPolicy{{
			Name:                  "wasmgate-test",
			RegistryScopes:        []string{"*"},
			SignatureVerification: trustpolicy.SignatureVerification{VerificationLevel: trustpolicy.LevelStrict.Name},
			TrustStores:           []string{"ca:" + tr.Store},
			TrustedIdentities:     []string{"*"},
		}},
	}
	var err error
	if tr.Policy, err = json.MarshalIndent(doc, "", "  "); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(tr.Dir, filepath.FromSlash(dir.X509TrustStoreDir("ca", tr.Store)))
	if err := os.MkdirAll(store, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "root.pem"), rootPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(tr.Dir, dir.PathTrustPolicy), tr.Policy, 0o600); err != nil {
		t.Fatal(err)
	}
	return tr
}

// NotationVerify verifies the notation signatures of refWithDigest in
// remoteRepo against tr with notation-go's verifier, as `notation verify`
// does, and returns notation's error rather than failing the test.
func NotationVerify(t testing.TB, tr NotationTrust, remoteRepo *remote.Repository, refWithDigest string) error {
	t.Helper()
	checkSameRepo(t, remoteRepo, refWithDigest)
	var doc trustpolicy.Document
	if err := json.Unmarshal(tr.Policy, &doc); err != nil {
		t.Fatal(err)
	}
	v, err := verifier.New(&doc, truststore.NewX509TrustStore(dir.NewSysFS(tr.Dir)), nil)
	if err != nil {
		t.Fatalf("peers: notation verifier: %v", err)
	}
	_, _, err = notation.Verify(t.Context(), v, registry.NewRepository(remoteRepo), notation.VerifyOptions{
		ArtifactReference:    refWithDigest,
		MaxSignatureAttempts: 50,
	})
	return err
}
