package notation_test

import (
	"errors"
	"os"
	"testing"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	notationgo "github.com/notaryproject/notation-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence/notation"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
)

// An OCI signature envelope made in the test verifies offline against the
// descriptor it was made for, and against no other digest or size.
func TestVerifyEnvelope(t *testing.T) {
	p := newPKI(t, testpki.P256)
	trust := trustRoots(t, "", p.root.Cert)
	manifest := []byte(`{"schemaVersion":2}`)
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(manifest), Size: int64(len(manifest))}
	for _, env := range []string{jws.MediaTypeEnvelope, cose.MediaTypeEnvelope} {
		t.Run(env, func(t *testing.T) {
			sig, _, err := p.leaf.NotationSigner(t).Sign(testkit.Context(t), subject, notationgo.SignerSignOptions{SignatureMediaType: env})
			if err != nil {
				t.Fatal(err)
			}
			verify := func(d ocispec.Descriptor, mediaType string) notation.Result {
				t.Helper()
				r, err := notation.VerifyEnvelope(testkit.Context(t), "registry.example/wasm/tiny", d, sig, mediaType, trust, notation.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return *r
			}
			if r := verify(subject, ""); !r.Verified || r.Signer != p.leaf.Cert.Subject.String() || r.Referrer != "" {
				t.Fatalf("own descriptor: %+v", r)
			}
			if r := verify(subject, env); !r.Verified {
				t.Fatalf("media type named: %+v", r)
			}
			other := subject
			other.Digest = digest.FromString("another manifest")
			wantErr(t, verify(other, ""), notation.ErrSubjectMismatch)
			other = subject
			other.Size++
			wantErr(t, verify(other, ""), notation.ErrSubjectMismatch)
		})
	}
	t.Run("no statement for the scope", func(t *testing.T) {
		elsewhere := trustRoots(t, policy(t, testpki.Policy{Scopes: []string{"registry.example/other"}}), p.root.Cert)
		_, err := notation.VerifyEnvelope(testkit.Context(t), "registry.example/wasm/tiny", subject, []byte("{}"), "", elsewhere, notation.Options{})
		var npe *notation.NoTrustPolicyError
		if !errors.As(err, &npe) || npe.Scope != "registry.example/wasm/tiny" {
			t.Fatalf("err = %v", err)
		}
	})
}

// notation-go's own test envelopes (internal/testdata), read from the
// module cache: their type is told by their bytes, and each verifies
// against the manifest descriptor its payload names (under audit: their
// signer is notation-go's test certificate, in no store here) and against
// no other.
func TestVerifyEnvelopeUpstream(t *testing.T) {
	const module = "github.com/notaryproject/notation-go"
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest,
		Digest: "sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0", Size: 481}
	root := testpki.NewRoot(t, "not notation-go's root", testpki.P256)
	audit := trustRoots(t, policy(t, testpki.Policy{Level: "audit"}), root.Cert)
	strict := trustRoots(t, "", root.Cert)
	for file, want := range map[string]string{"internal/testdata/jws_signature.sig": jws.MediaTypeEnvelope, "internal/testdata/cose_signature.sig": cose.MediaTypeEnvelope} {
		t.Run(file, func(t *testing.T) {
			raw, err := os.ReadFile(testkit.ModuleFile(t, module, file))
			if err != nil {
				t.Fatal(err)
			}
			if got := notation.EnvelopeMediaType(raw); got != want {
				t.Fatalf("EnvelopeMediaType = %q, want %q", got, want)
			}
			verify := func(trust *notation.Trust, d ocispec.Descriptor) notation.Result {
				t.Helper()
				r, err := notation.VerifyEnvelope(testkit.Context(t), "local/oci-layout", d, raw, "", trust, notation.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return *r
			}
			r := verify(audit, subject)
			if !r.Verified || r.Signer == "" || !errors.Is(check(r, notation.CheckAuthenticity).Err, notation.ErrAuthenticity) {
				t.Fatalf("audit, own descriptor: %+v", r)
			}
			other := subject
			other.Digest = digest.FromString("another manifest")
			wantErr(t, verify(audit, other), notation.ErrSubjectMismatch)
			wantErr(t, verify(strict, subject), notation.ErrAuthenticity)
		})
	}
}
