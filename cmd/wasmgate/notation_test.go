package main

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

// Notation end to end: sign with a key and chain from files (both
// envelopes), verify with Notation's own trust files on both registry
// kinds and in an OCI layout reached by copy -r.
func TestNotationCLI(t *testing.T) {
	dir := t.TempDir()
	root := testpki.NewRoot(t, "wasmgate test root", testpki.P256)
	inter := root.NewIntermediate(t, "wasmgate test intermediate", testpki.P256)
	leaf := inter.Issue(t, testpki.LeafOptions{CommonName: "release signer", Key: testpki.P384})
	keyPath, chainPath := filepath.Join(dir, "key.pem"), filepath.Join(dir, "chain.pem")
	if err := os.WriteFile(keyPath, testpki.KeyPEM(t, leaf.Key), 0o600); err != nil {
		t.Fatal(err)
	}
	testpki.WritePEM(t, chainPath, leaf.Chain...)
	trustDir := filepath.Join(dir, "notation")
	policy := testpki.WriteNotationTrust(t, trustDir, "acme", []*x509.Certificate{root.Root()}, "")
	otherDir := filepath.Join(dir, "other")
	otherPolicy := testpki.WriteNotationTrust(t, otherDir, "acme", []*x509.Certificate{testpki.NewRoot(t, "someone else", testpki.P256).Root()}, "")

	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			peers.PushSubject(t, reg, "wasm/tiny")
			tag := reg.Ref("wasm/tiny", "v1")
			for _, env := range []string{"jws", "cose"} {
				if code, _, stderr := wasmgate(t, "sign", tag, "--notation-key", keyPath, "--notation-cert", chainPath, "--signature-format", env, "-m", "build=42"); code != 0 {
					t.Fatalf("sign %s: %s", env, stderr)
				}
			}
			code, stdout, stderr := wasmgate(t, "verify", tag, "--notation-trust-policy", policy, "--notation-trust-store", trustDir,
				"--notation-user-metadata", "build=42", "--output", "json")
			if code != 0 {
				t.Fatalf("verify: exit %d\n%s\n%s", code, stdout, stderr)
			}
			res := verifyResult(t, stdout)
			if res.Verdict != verify.VerdictVerified || len(res.Signatures.Authorities[0].Notation) != 2 {
				t.Fatalf("json: %s", stdout)
			}
			for _, r := range res.Signatures.Authorities[0].Notation {
				if !r.Verified || !strings.Contains(r.Signer, "release signer") || r.Level != "strict" {
					t.Errorf("signature: %+v", r)
				}
			}
			code, stdout, _ = wasmgate(t, "verify", tag, "--notation-trust-policy", otherPolicy, "--notation-trust-store", otherDir)
			if code != exitDenied || !strings.Contains(stdout, "0 of 1 required authorities signed") || strings.Count(stdout, "✗ notation jws")+strings.Count(stdout, "✗ notation cose") != 2 {
				t.Errorf("untrusted root: exit %d\n%s", code, stdout)
			}
			if kind != testregistry.KindGGCR {
				return
			}
			layout := "oci-layout:" + filepath.Join(t.TempDir(), "wasm") + ":v1"
			if code, _, stderr := wasmgate(t, "copy", "-r", tag, layout); code != 0 {
				t.Fatalf("copy: %s", stderr)
			}
			code, stdout, stderr = wasmgate(t, "verify", layout, "--notation-trust-policy", policy, "--notation-trust-store", trustDir)
			if code != 0 || strings.Count(stdout, "level strict)") != 2 || !strings.Contains(stdout, "\nVERIFIED") {
				t.Errorf("layout: exit %d\n%s\n%s", code, stdout, stderr)
			}
		})
	}
}
