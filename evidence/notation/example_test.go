package notation_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence/notation"
)

// A trust policy whose registry scope is not "host/repository" is a
// configuration error, reported before any signature is looked at.
func ExampleLoadTrust() {
	d, err := os.MkdirTemp("", "notation-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(d)
	policy := filepath.Join(d, "trustpolicy.json")
	os.WriteFile(policy, []byte(`{
  "version": "1.0",
  "trustPolicies": [{
    "name": "acme",
    "registryScopes": ["registry.acme.dev/wasm/*"],
    "signatureVerification": {"level": "strict"},
    "trustStores": ["ca:acme"],
    "trustedIdentities": ["*"]
  }]
}`), 0o600)
	os.MkdirAll(filepath.Join(d, "truststore", "x509", "ca", "acme"), 0o700)

	_, err = notation.LoadTrust(policy, d)
	fmt.Println(errors.Is(err, notation.ErrInvalidTrustPolicy))
	// Output: true
}

// A blob trust policy (trustpolicy.blob.json) whose statements are chosen
// by name: asking for a name it does not have is an error that lists the
// names it has, before the blob is read.
func ExampleVerifyBlob() {
	d, err := os.MkdirTemp("", "notation-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(d)
	policy := filepath.Join(d, "trustpolicy.blob.json")
	os.WriteFile(policy, []byte(`{
  "version": "1.0",
  "trustPolicies": [{
    "name": "release",
    "signatureVerification": {"level": "skip"},
    "globalPolicy": true
  }]
}`), 0o600)
	os.MkdirAll(filepath.Join(d, "truststore", "x509"), 0o700)
	trust, err := notation.LoadBlobTrust(policy, d)
	if err != nil {
		fmt.Println(err)
		return
	}
	envelope := []byte(`{"payload": "", "protected": "", "signature": ""}`)

	_, _, err = notation.VerifyBlob(context.Background(), strings.NewReader("a blob"), envelope, "", trust, notation.BlobOptions{PolicyName: "nightly"})
	fmt.Println(errors.Is(err, notation.ErrNoTrustPolicy))
	fmt.Println(err)

	// The global statement has level skip: nothing is checked, and the
	// result says so.
	_, r, _ := notation.VerifyBlob(context.Background(), strings.NewReader("a blob"), envelope, "", trust, notation.BlobOptions{})
	fmt.Println(r.Verified, r.Level, r.Policy)
	// Output:
	// true
	// no Notation trust policy applies to this blob: the blob trust policy has no statement named "nightly" (it has "release")
	// true skip release
}

// An envelope is checked against the descriptor the caller gives; a scope
// the OCI trust policy does not cover is an error before any check.
func ExampleVerifyEnvelope() {
	d, err := os.MkdirTemp("", "notation-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(d)
	policy := filepath.Join(d, "trustpolicy.json")
	os.WriteFile(policy, []byte(`{
  "version": "1.0",
  "trustPolicies": [{
    "name": "acme",
    "registryScopes": ["registry.acme.dev/wasm/app"],
    "signatureVerification": {"level": "skip"}
  }]
}`), 0o600)
	os.MkdirAll(filepath.Join(d, "truststore", "x509"), 0o700)
	trust, err := notation.LoadTrust(policy, d)
	if err != nil {
		fmt.Println(err)
		return
	}
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("{}"), Size: 2}

	_, err = notation.VerifyEnvelope(context.Background(), "registry.acme.dev/wasm/other", subject, []byte("{}"), "", trust, notation.Options{})
	fmt.Println(errors.Is(err, notation.ErrNoTrustPolicy))
	r, _ := notation.VerifyEnvelope(context.Background(), "registry.acme.dev/wasm/app", subject, []byte("{}"), "", trust, notation.Options{})
	fmt.Println(r.Verified, r.Level)
	// Output:
	// true
	// true skip
}

// A Notation configuration directory: the OCI policy under either of its
// names, the blob policy beside it, the trust stores under truststore/.
func ExampleLoadConfig() {
	d, err := os.MkdirTemp("", "notation-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(d)
	os.WriteFile(filepath.Join(d, "trustpolicy.blob.json"), []byte(`{
  "version": "1.0",
  "trustPolicies": [{"name": "release", "signatureVerification": {"level": "skip"}, "globalPolicy": true}]
}`), 0o600)
	os.MkdirAll(filepath.Join(d, "truststore", "x509"), 0o700)

	c, err := notation.LoadConfig(d)
	if err != nil {
		fmt.Println(err)
		return
	}
	names, global := c.Blob.Names()
	fmt.Println(c.OCI == nil, names, global)
	// Output: true [release] release
}

// The envelope type of a signature file, told by its bytes.
func ExampleEnvelopeMediaType() {
	fmt.Println(notation.EnvelopeMediaType([]byte(`{"payload": "..."}`)))
	fmt.Println(notation.EnvelopeMediaType([]byte{0xd2, 0x84}))
	fmt.Printf("%q\n", notation.EnvelopeMediaType([]byte("-----BEGIN CERTIFICATE-----")))
	// Output:
	// application/jose+json
	// application/cose
	// ""
}

// An OCI trust policy given where the blob policy is expected is refused:
// blob statements have no registryScopes.
func ExampleLoadBlobTrust() {
	d, err := os.MkdirTemp("", "notation-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(d)
	policy := filepath.Join(d, "trustpolicy.blob.json")
	os.WriteFile(policy, []byte(`{
  "version": "1.0",
  "trustPolicies": [{"name": "acme", "registryScopes": ["*"], "signatureVerification": {"level": "skip"}}]
}`), 0o600)

	_, err = notation.LoadBlobTrust(policy, d)
	fmt.Println(errors.Is(err, notation.ErrInvalidTrustPolicy))
	// Output: true
}

// Envelope names as users write them (notation's --signature-format).
func ExampleEnvelopeMediaTypeOf() {
	fmt.Println(notation.EnvelopeMediaTypeOf("jws"))
	fmt.Println(notation.EnvelopeMediaTypeOf("COSE"))
	fmt.Printf("%q\n", notation.EnvelopeMediaTypeOf("pgp"))
	// Output:
	// application/jose+json
	// application/cose
	// ""
}
