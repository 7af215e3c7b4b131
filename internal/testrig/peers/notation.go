package peers

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"testing"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	"github.com/notaryproject/notation-go"
	"github.com/notaryproject/notation-go/dir"
	"github.com/notaryproject/notation-go/registry"
	"github.com/notaryproject/notation-go/verifier"
	"github.com/notaryproject/notation-go/verifier/trustpolicy"
	"github.com/notaryproject/notation-go/verifier/truststore"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	orasregistry "oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"

	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
)

// Notation envelopes, the envelope argument of [NotationSign].
const (
	NotationJWS  = "jws"  // application/jose+json
	NotationCOSE = "cose" // application/cose
)

// NotationKey makes a signing key and a two-certificate chain for it with
// internal/testrig/testpki, valid for a day: a self-signed ECDSA P-256 root
// CA and a P-256 leaf it issued in the profile the Notary Project requires
// (key usage digitalSignature only, extended key usage codeSigning). It
// returns a notation-go signer holding the leaf's key and chain, and the
// root, which is what a verifier's trust store holds
// ([NotationVerifyMaterial]).
func NotationKey(t testing.TB) (notation.Signer, *x509.Certificate) {
	t.Helper()
	root := testpki.NewRoot(t, "wasmgate test root (TEST ONLY)", testpki.P256)
	return root.Issue(t, testpki.LeafOptions{}).NotationSigner(t), root.Root()
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
// root into a new temporary directory, with testpki.WriteNotationTrust.
func NotationVerifyMaterial(t testing.TB, root *x509.Certificate) NotationTrust {
	t.Helper()
	tr := NotationTrust{Dir: t.TempDir(), Store: "wasmgate-test"}
	tr.Policy = []byte(testpki.NotationPolicy(t, tr.Store, testpki.Policy{}))
	testpki.WriteNotationTrust(t, tr.Dir, tr.Store, []*x509.Certificate{root}, string(tr.Policy))
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
