package main

import (
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/notaryproject/notation-core-go/signature/cose"
	"github.com/notaryproject/notation-core-go/signature/jws"
	notationgo "github.com/notaryproject/notation-go"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
)

// verify-blob with Notation evidence: blob signatures in both envelopes
// (named as notation blob sign names them), by trust files or a
// configuration directory; denied and usage exits.
func TestVerifyBlobNotationCLI(t *testing.T) {
	dir := t.TempDir()
	root := testpki.NewRoot(t, "wasmgate test root", testpki.P256)
	leaf := root.NewIntermediate(t, "wasmgate test intermediate", testpki.P256).Issue(t, testpki.LeafOptions{CommonName: "release signer"})
	file := filepath.Join(dir, "app.wasm")
	content := []byte("\x00asm\x01\x00\x00\x00")
	if err := os.WriteFile(file, content, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "notation")
	blobPolicy := testpki.WriteNotationBlobTrust(t, config, "acme", []*x509.Certificate{root.Cert}, "")
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	jwsSig := write("app.wasm.jws.sig", leaf.NotationSignBlob(t, content, testpki.BlobSignOptions{Envelope: jws.MediaTypeEnvelope, UserMetadata: map[string]string{"build": "42"}}))
	coseSig := write("app.wasm.cose.sig", leaf.NotationSignBlob(t, content, testpki.BlobSignOptions{Envelope: cose.MediaTypeEnvelope, MediaType: "application/wasm"}))

	for _, sig := range []string{jwsSig, coseSig} {
		code, stdout, stderr := wasmgate(t, "verify-blob", file, "--signature", sig, "--notation-trust-policy", blobPolicy, "--notation-trust-store", config)
		if code != 0 || !strings.HasPrefix(stdout, digest.FromBytes(content).String()+" ✓ notation ") || !strings.Contains(stdout, "release signer") {
			t.Errorf("%s: exit %d\n%s\n%s", sig, code, stdout, stderr)
		}
	}
	code, stdout, stderr := wasmgate(t, "verify-blob", file, "--signature", jwsSig, "--notation-config", config, "--notation-user-metadata", "build=42", "--output", "json")
	var res struct {
		Artifact string
		Subject  ocispec.Descriptor
		Verified bool
		Envelope string
		Policy   string `json:"trustPolicy"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil || code != 0 {
		t.Fatalf("json: exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}
	if !res.Verified || res.Envelope != "jws" || res.Policy != "wasmgate-test" || res.Subject.Size != int64(len(content)) || res.Artifact != digest.FromBytes(content).String() {
		t.Errorf("json: %s", stdout)
	}

	denied := []struct {
		name string
		args []string
		want string
	}{
		{"tampered file", []string{write("other.wasm", []byte("another module")), "--signature", jwsSig, "--notation-config", config}, "another artifact"},
		{"metadata", []string{file, "--signature", coseSig, "--notation-config", config, "--notation-user-metadata", "build=42"}, "metadata"},
		{"media type", []string{file, "--signature", coseSig, "--notation-config", config, "--media-type", "application/octet-stream"}, "application/wasm"},
	}
	for _, tc := range denied {
		code, stdout, _ := wasmgate(t, append([]string{"verify-blob"}, tc.args...)...)
		if code != exitDenied || !strings.Contains(stdout, "✗ notation") || !strings.Contains(stdout, tc.want) {
			t.Errorf("%s: exit %d\n%s", tc.name, code, stdout)
		}
	}
	other := filepath.Join(dir, "other")
	otherPolicy := testpki.WriteNotationBlobTrust(t, other, "acme", []*x509.Certificate{testpki.NewRoot(t, "someone else", testpki.P256).Cert}, "")
	if code, stdout, _ := wasmgate(t, "verify-blob", file, "--signature", jwsSig, "--notation-trust-policy", otherPolicy, "--notation-trust-store", other); code != exitDenied || !strings.Contains(stdout, "trusted certificate authority") {
		t.Errorf("untrusted root: exit %d\n%s", code, stdout)
	}

	// Named by extension, not content: the file is named .cose.sig but
	// holds JWS; --signature-media-type overrides the content.
	if code, stdout, _ := wasmgate(t, "verify-blob", file, "--signature", jwsSig, "--notation-config", config, "--signature-media-type", "cose"); code != exitDenied || !strings.Contains(stdout, "malformed") {
		t.Errorf("wrong --signature-media-type: exit %d\n%s", code, stdout)
	}

	usage := []struct {
		name string
		args []string
		want string
	}{
		{"no evidence", []string{file}, "--bundle FILE"},
		{"both", []string{file, "--bundle", jwsSig, "--signature", jwsSig}, "not both"},
		{"notation flag with a bundle", []string{file, "--bundle", jwsSig, "--notation-config", config}, "--notation-config is for Notation"},
		{"cosign flag with a signature", []string{file, "--signature", jwsSig, "--notation-config", config, "--key", "cosign.pub"}, "--key is for sigstore"},
		{"no trust", []string{file, "--signature", jwsSig}, "--notation-trust-policy"},
		{"config and files", []string{file, "--signature", jwsSig, "--notation-config", config, "--notation-trust-store", config}, "drop --notation-trust-store"},
		{"unknown statement", []string{file, "--signature", jwsSig, "--notation-config", config, "--notation-policy-name", "nightly"}, "--notation-policy-name"},
		{"a digest, not the file", []string{digest.FromBytes(content).String(), "--signature", jwsSig, "--notation-config", config}, "not a digest"},
		{"an OCI policy for a blob", []string{file, "--signature", jwsSig, "--notation-trust-policy", testpki.WriteNotationTrust(t, filepath.Join(dir, "oci"), "acme", []*x509.Certificate{root.Cert}, ""), "--notation-trust-store", config}, "registryScopes"},
		{"bad media type name", []string{file, "--signature", jwsSig, "--notation-config", config, "--signature-media-type", "pgp"}, "jws or cose"},
		{"scope without descriptor", []string{file, "--signature", jwsSig, "--notation-config", config, "--notation-scope", "registry.example/app"}, "--subject-descriptor"},
		{"not an envelope", []string{file, "--signature", file, "--notation-config", config}, "--signature-media-type"},
	}
	for _, tc := range usage {
		code, _, stderr := wasmgate(t, append([]string{"verify-blob"}, tc.args...)...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%s: exit %d, want %d and %q\n%s", tc.name, code, exitUsage, tc.want, stderr)
		}
	}

	code, stdout, _ = wasmgate(t, "verify-blob", "--help")
	for _, want := range []string{"sigstore bundle", "Notation blob signature", "JWS or COSE", "against a subject descriptor"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("--help does not say %q:\n%s", want, stdout)
		}
	}
}

// verify-blob --signature --subject-descriptor: an OCI signature envelope
// made in the test verifies offline against its descriptor, and is denied
// against another digest.
func TestVerifyBlobEnvelopeCLI(t *testing.T) {
	dir := t.TempDir()
	root := testpki.NewRoot(t, "wasmgate test root", testpki.P256)
	leaf := root.NewIntermediate(t, "wasmgate test intermediate", testpki.P256).Issue(t, testpki.LeafOptions{CommonName: "release signer"})
	config := filepath.Join(dir, "notation")
	policy := testpki.WriteNotationTrust(t, config, "acme", []*x509.Certificate{root.Cert}, "")
	manifest := []byte(`{"schemaVersion":2}`)
	subject := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(manifest), Size: int64(len(manifest))}
	env, _, err := leaf.NotationSigner(t).Sign(testkit.Context(t), subject, notationgo.SignerSignOptions{SignatureMediaType: cose.MediaTypeEnvelope})
	if err != nil {
		t.Fatal(err)
	}
	sig := filepath.Join(dir, "sig.cose")
	if err := os.WriteFile(sig, env, 0o600); err != nil {
		t.Fatal(err)
	}
	descFile := func(d ocispec.Descriptor) string {
		b, _ := json.Marshal(d)
		p := filepath.Join(t.TempDir(), "desc.json")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	args := func(d ocispec.Descriptor) []string {
		return []string{"verify-blob", "--signature", sig, "--subject-descriptor", descFile(d), "--notation-scope", "registry.example/wasm/app",
			"--notation-trust-policy", policy, "--notation-trust-store", config}
	}
	if code, stdout, stderr := wasmgate(t, args(subject)...); code != 0 || !strings.HasPrefix(stdout, subject.Digest.String()+" ✓ notation cose: ") {
		t.Fatalf("own descriptor: exit %d\n%s\n%s", code, stdout, stderr)
	}
	if code, stdout, stderr := wasmgate(t, "verify-blob", "--signature", sig, "--subject-descriptor", descFile(subject), "--notation-scope", "registry.example/wasm/app", "--notation-config", config); code != 0 {
		t.Fatalf("--notation-config: exit %d\n%s\n%s", code, stdout, stderr)
	}
	other := subject
	other.Digest = digest.FromString("another manifest")
	if code, stdout, _ := wasmgate(t, args(other)...); code != exitDenied || !strings.Contains(stdout, "another artifact") {
		t.Errorf("another digest: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := wasmgate(t, "verify-blob", "--signature", sig, "--subject-descriptor", descFile(subject), "--notation-trust-policy", policy, "--notation-trust-store", config); code != exitUsage || !strings.Contains(stderr, "--notation-scope") {
		t.Errorf("no scope: exit %d\n%s", code, stderr)
	}
	elsewhere := filepath.Join(dir, "elsewhere")
	p := testpki.WriteNotationTrust(t, elsewhere, "acme", []*x509.Certificate{root.Cert}, testpki.NotationPolicy(t, "acme", testpki.Policy{Scopes: []string{"registry.example/other"}}))
	if code, _, stderr := wasmgate(t, "verify-blob", "--signature", sig, "--subject-descriptor", descFile(subject), "--notation-scope", "registry.example/wasm/app", "--notation-trust-policy", p, "--notation-trust-store", elsewhere); code != exitUsage || !strings.Contains(stderr, "registryScopes") {
		t.Errorf("scope not covered: exit %d\n%s", code, stderr)
	}
}
