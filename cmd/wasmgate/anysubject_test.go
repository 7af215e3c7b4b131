package main

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

const anySubjectPolicy = `version: v1
policies:
  - name: web
    scopes: ["%s/apps/*"]
%s    signatures:
      authorities:
        - name: corp
          notation: {trustPolicy: notation/trustpolicy.json, trustStore: notation}
`

// `wasmgate verify` on a container image, through the CLI, on both
// registry kinds: signed with `wasmgate sign --notation-key`, it is denied
// (exit 1) under a policy that does not say artifacts, with the field to
// change in the report; verified (exit 0) under artifacts: [image], its JSON
// following the schema; verified with the Notation flags alone, as
// notation verify would; and policy lint says what the statement accepts.
func TestVerifyAnySubjectCLI(t *testing.T) {
	schema := compileSchema(t)
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			dir := t.TempDir()
			root := testpki.NewRoot(t, "acme root (TEST ONLY)", testpki.P256)
			leaf := root.Issue(t, testpki.LeafOptions{CommonName: "acme release"})
			notaryKey, notaryCert := filepath.Join(dir, "notary.key"), filepath.Join(dir, "notary.crt")
			if err := os.WriteFile(notaryKey, testpki.KeyPEM(t, leaf.Key), 0o600); err != nil {
				t.Fatal(err)
			}
			testpki.WritePEM(t, notaryCert, leaf.Chain...)
			trustPolicy := testpki.WriteNotationTrust(t, filepath.Join(dir, "notation"), "acme", []*x509.Certificate{root.Root()}, "")

			im := testkit.PushImage(t, reg.Repository(t, "apps/web"), "linux/amd64", "v1")
			ref := reg.Ref("apps/web", "v1")
			if code, _, stderr := wasmgate(t, "sign", ref, "--notation-key", notaryKey, "--notation-cert", notaryCert); code != exitOK {
				t.Fatalf("sign: exit %d: %s", code, stderr)
			}
			writePolicy := func(name, artifacts string) string {
				p := filepath.Join(dir, name)
				doc := strings.Replace(strings.Replace(anySubjectPolicy, "%s", reg.Host, 1), "%s", artifacts, 1)
				if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			}

			code, stdout, stderr := wasmgate(t, "verify", "--policy", writePolicy("default.yaml", ""), ref)
			if code != exitDenied {
				t.Fatalf("default policy: exit %d, want %d (denied)\n%s%s", code, exitDenied, stdout, stderr)
			}
			for _, want := range []string{"is a container image", "accepts artifacts: [wasm]", "add image (or any)"} {
				if !strings.Contains(stdout, want) {
					t.Errorf("default policy: the report does not say %q:\n%s", want, stdout)
				}
			}

			images := writePolicy("images.yaml", "    artifacts: [image]\n")
			code, stdout, stderr = wasmgate(t, "verify", "--policy", images, ref, "--output", "json")
			if code != exitOK {
				t.Fatalf("artifacts: [image]: exit %d\n%s%s", code, stdout, stderr)
			}
			validate(t, schema, stdout)
			res := verifyResult(t, stdout)
			if res.SubjectKind != artifact.SubjectImage || res.Digest != im.Manifest.Digest || res.Content == nil || res.Content.Digests != verify.DigestsChecked {
				t.Errorf("artifacts: [image]: %s", stdout)
			}

			code, stdout, stderr = wasmgate(t, "verify", ref, "--notation-trust-policy", trustPolicy, "--notation-trust-store", filepath.Join(dir, "notation"))
			if code != exitOK || !strings.Contains(stdout, "a container image") {
				t.Errorf("one-off Notation flags: exit %d, want %d\n%s%s", code, exitOK, stdout, stderr)
			}

			code, stdout, _ = wasmgate(t, "policy", "lint", images)
			if code != exitOK || !strings.Contains(stdout, "artifacts: [image]") {
				t.Errorf("policy lint: exit %d\n%s", code, stdout)
			}
		})
	}
}
