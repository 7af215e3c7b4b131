package testpki

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/notaryproject/notation-core-go/signature"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/signer"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/tspclient-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// PEM encodes certs as concatenated CERTIFICATE blocks.
func PEM(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// KeyPEM encodes key as a PKCS #8 PRIVATE KEY block.
func KeyPEM(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testpki: marshal key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// WritePEM writes certs to path as PEM (mode 0600, parents created).
func WritePEM(t testing.TB, path string, certs ...*x509.Certificate) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, PEM(certs...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// NotationSigner returns a notation-go signer holding the leaf's key and
// chain, as `notation sign --key` builds one from a local key and
// certificate file.
func (l *Leaf) NotationSigner(t testing.TB) notation.Signer {
	t.Helper()
	s, err := signer.NewGenericSigner(l.Key, l.Chain)
	if err != nil {
		t.Fatalf("testpki: notation signer: %v", err)
	}
	return s
}

// Policy is one trust policy statement for [NotationPolicy].
type Policy struct {
	Name   string   // default "wasmgate-test"
	Scopes []string // default ["*"]
	Level  string   // default "strict"
	// Override maps a check (authenticity, expiry, ...) to an action.
	Override map[string]string
	// TrustStores default to ["ca:<store>"] for the store of
	// [WriteNotationTrust].
	TrustStores []string
	// TrustedIdentities default to ["*"].
	TrustedIdentities []string
}

// NotationPolicy renders a trustpolicy.json (version 1.0) holding ps; a
// statement without trust stores trusts "ca:"+store.
func NotationPolicy(t testing.TB, store string, ps ...Policy) string {
	t.Helper()
	doc := trustpolicy.Document{Version: "1.0"}
	for _, p := range ps {
		if p.Name == "" {
			p.Name = "wasmgate-test"
		}
		if p.Scopes == nil {
			p.Scopes = []string{"*"}
		}
		if p.Level == "" {
			p.Level = trustpolicy.LevelStrict.Name
		}
		if p.TrustStores == nil {
			p.TrustStores = []string{"ca:" + store}
		}
		if p.TrustedIdentities == nil {
			p.TrustedIdentities = []string{"*"}
		}
		sv := trustpolicy.SignatureVerification{VerificationLevel: p.Level}
		if len(p.Override) > 0 {
			sv.Override = map[trustpolicy.ValidationType]trustpolicy.ValidationAction{}
			for k, v := range p.Override {
				sv.Override[trustpolicy.ValidationType(k)] = trustpolicy.ValidationAction(v)
			}
		}
		doc.TrustPolicies = append(doc.TrustPolicies, trustpolicy.TrustPolicy{
			Name:                  p.Name,
			RegistryScopes:        p.Scopes,
			SignatureVerification: sv,
			TrustStores:           p.TrustStores,
			TrustedIdentities:     p.TrustedIdentities,
		})
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// WriteNotationTrust lays out dir as a notation configuration directory:
// dir/trustpolicy.json holding policy (when policy is "", one strict
// statement for every scope trusting any identity from
// "ca:"+storeName) and dir/truststore/x509/ca/<storeName>/root.pem holding
// roots (root-1.pem, ... when there are several; with no roots, only
// truststore/x509/ca/ is created). It returns the path of trustpolicy.json.
func WriteNotationTrust(t testing.TB, dirPath, storeName string, roots []*x509.Certificate, policy string) string {
	t.Helper()
	if policy == "" {
		policy = NotationPolicy(t, storeName, Policy{})
	}
	store := filepath.Join(dirPath, filepath.FromSlash(dir.X509TrustStoreDir("ca", storeName)))
	if err := os.MkdirAll(filepath.Dir(store), 0o700); err != nil {
		t.Fatal(err)
	}
	for i, r := range roots {
		name := "root.pem"
		if len(roots) > 1 {
			name = "root-" + strconv.Itoa(i+1) + ".pem"
		}
		WritePEM(t, filepath.Join(store, name), r)
	}
	path := filepath.Join(dirPath, dir.PathTrustPolicy)
	if err := os.MkdirAll(dirPath, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// BlobSignOptions shape [Leaf.NotationSignBlob].
type BlobSignOptions struct {
	// Envelope is the envelope media type (jws.MediaTypeEnvelope or
	// cose.MediaTypeEnvelope).
	Envelope string
	// MediaType is the content media type signed; default
	// application/octet-stream, as notation blob sign defaults it.
	MediaType string
	// UserMetadata is signed as the target's annotations (-m k=v).
	UserMetadata map[string]string
	// Timestamper and TSARoots ask an RFC 3161 countersignature.
	Timestamper tspclient.Timestamper
	TSARoots    *x509.CertPool
}

// NotationSignBlob signs blob with the leaf as notation blob sign does:
// the payload names the blob's descriptor (the digest the signing key
// calls for: SHA-256 for RSA 3072 and P-256, SHA-384 for P-384; the size;
// the content media type) with the user metadata as its annotations, and
// notation-go's generic signer writes the envelope. notation-go v1.3 has
// no SignBlob (it came after), so the descriptor is made here and signed
// by the same signer its SignBlob calls.
func (l *Leaf) NotationSignBlob(t testing.TB, blob []byte, o BlobSignOptions) []byte {
	t.Helper()
	if o.MediaType == "" {
		o.MediaType = "application/octet-stream"
	}
	ks, err := signature.ExtractKeySpec(l.Cert)
	if err != nil {
		t.Fatalf("testpki: key spec: %v", err)
	}
	alg := digest.SHA256
	switch ks.SignatureAlgorithm().Hash() {
	case crypto.SHA384:
		alg = digest.SHA384
	case crypto.SHA512:
		alg = digest.SHA512
	}
	desc := ocispec.Descriptor{MediaType: o.MediaType, Digest: alg.FromBytes(blob), Size: int64(len(blob)), Annotations: o.UserMetadata}
	env, _, err := l.NotationSigner(t).Sign(context.Background(), desc, notation.SignerSignOptions{
		SignatureMediaType: o.Envelope, Timestamper: o.Timestamper, TSARootCAs: o.TSARoots,
	})
	if err != nil {
		t.Fatalf("testpki: sign blob: %v", err)
	}
	return env
}

// WriteNotationBlobTrust writes dir/trustpolicy.blob.json holding policy
// (when "", one strict global statement "wasmgate-test" trusting any
// identity from "ca:"+storeName) and the roots as [WriteNotationTrust]
// writes them. It returns the path of trustpolicy.blob.json.
func WriteNotationBlobTrust(t testing.TB, dirPath, storeName string, roots []*x509.Certificate, policy string) string {
	t.Helper()
	if policy == "" {
		policy = `{"version": "1.0", "trustPolicies": [{"name": "wasmgate-test", "signatureVerification": {"level": "strict"},
  "trustStores": ["ca:` + storeName + `"], "trustedIdentities": ["*"], "globalPolicy": true}]}`
	}
	oci := WriteNotationTrust(t, dirPath, storeName, roots, "")
	if err := os.Remove(oci); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dirPath, "trustpolicy.blob.json")
	if err := os.WriteFile(path, []byte(policy), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
