package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

const policyRefTrust = `version: v1
policies:
  - name: acme
    scopes: ["%s/wasm/*"]
    signatures:
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
        - name: dev
          cosign: {key: dev.pub, insecureIgnoreTlog: true}
    permissionPolicy:
      signedBy: [release]
    layers: {requirePolicy: true}
`

// The permission policy as a signed referrer, through the CLI, on both
// registry kinds: a single-layer artifact (push without --permissions),
// attach --policy, sign the referrer's digest; verify says where the
// policy came from (text, and JSON that follows the schema), run runs
// under it, pull --verified writes it. A policy that does not parse is
// refused before anything is sent; a disagreeing policy signed by a key
// not allowed to sign policies changes nothing.
func TestAttachPolicyCLI(t *testing.T) {
	schema := compileSchema(t)
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			t.Setenv("COSIGN_PASSWORD", "")
			dir := t.TempDir()
			for _, k := range []string{"release", "dev"} {
				if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, k)); code != 0 {
					t.Fatal(stderr)
				}
			}
			trust := filepath.Join(dir, "trust.yaml")
			if err := os.WriteFile(trust, []byte(strings.Replace(policyRefTrust, "%s", reg.Host, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			wasmPath, policyPath := sampleOnDisk(t)
			ref := reg.Ref("wasm/hello", "v1")
			if code, _, stderr := wasmgate(t, "push", wasmPath, ref); code != 0 {
				t.Fatal(stderr)
			}
			if code, _, stderr := wasmgate(t, "sign", ref, "--key", filepath.Join(dir, "release.key")); code != 0 {
				t.Fatal(stderr)
			}
			// No policy yet, and one is required.
			if code, stdout, _ := wasmgate(t, "verify", "--policy", trust, ref); code != exitDenied || !strings.Contains(stdout, "no permission policy") {
				t.Fatalf("without a policy: exit %d\n%s", code, stdout)
			}

			// Refused before anything is sent: nothing to discover after.
			bad := filepath.Join(dir, "bad.yaml")
			if err := os.WriteFile(bad, []byte("version: \"1.0\"\npermissions:\n  storage: {allow: [{uri: \"fs:///x\", access: [fly]}]}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, _, stderr := wasmgate(t, "attach", "--policy", bad, ref); code != exitUsage || !strings.Contains(stderr, "bad.yaml") {
				t.Errorf("invalid policy: exit %d %s", code, stderr)
			}
			if code, _, stderr := wasmgate(t, "attach", "--policy", trust, ref); code != exitUsage || !strings.Contains(stderr, "is a trust policy") {
				t.Errorf("a trust policy: exit %d %s", code, stderr)
			}
			if code, stdout, stderr := wasmgate(t, "discover", ref); code != 0 || strings.Contains(stdout, "permission-policy") {
				t.Errorf("discover after refused attaches: exit %d\n%s%s", code, stdout, stderr)
			}

			code, stdout, stderr := wasmgate(t, "attach", "--policy", policyPath, ref)
			if code != 0 {
				t.Fatal(stderr)
			}
			digest := strings.TrimSpace(stdout)
			policyRef := reg.Host + "/wasm/hello@" + digest
			// Attached, not yet signed: it does not count.
			if code, stdout, _ := wasmgate(t, "verify", "--policy", trust, ref); code != exitDenied || !strings.Contains(stdout, "no signature") {
				t.Fatalf("unsigned policy referrer: exit %d\n%s", code, stdout)
			}
			if code, _, stderr := wasmgate(t, "sign", policyRef, "--key", filepath.Join(dir, "release.key")); code != 0 {
				t.Fatalf("sign %s: %s", policyRef, stderr)
			}
			// A different policy signed by dev, who may not sign policies.
			other := filepath.Join(dir, "other.yaml")
			if err := os.WriteFile(other, []byte("version: \"1.0\"\npermissions:\n  environment:\n    allow:\n      - key: SECRET\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr = wasmgate(t, "attach", "--policy", other, ref)
			if code != 0 {
				t.Fatal(stderr)
			}
			if code, _, stderr := wasmgate(t, "sign", reg.Host+"/wasm/hello@"+strings.TrimSpace(stdout), "--key", filepath.Join(dir, "dev.key")); code != 0 {
				t.Fatal(stderr)
			}

			code, stdout, stderr = wasmgate(t, "verify", "--policy", trust, ref)
			if code != 0 || !strings.Contains(stdout, "from policy referrer "+digest+", signed by release") || !strings.Contains(stdout, "signed by dev, not allowed") {
				t.Fatalf("verify: exit %d\n%s%s", code, stdout, stderr)
			}
			code, stdout, _ = wasmgate(t, "verify", "--policy", trust, ref, "--output", "json")
			validate(t, schema, stdout)
			if r := verifyResult(t, stdout); code != 0 || r.PermissionPolicy == nil || r.PermissionPolicy.From != verify.PolicyFromReferrer || string(r.PermissionPolicy.Referrers[0]) != digest {
				t.Errorf("json: exit %d %+v", code, r.PermissionPolicy)
			}

			data := filepath.Join(dir, "data")
			if err := os.MkdirAll(data, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Setenv("GREETING", "hi from a policy referrer")
			t.Setenv("SECRET", "not for the module")
			code, stdout, stderr = wasmgate(t, "run", "--policy", trust, ref, "--allow-env", "GREETING", "--allow-env", "SECRET", "--allow-dir", "/data="+data)
			if code != 0 || !strings.Contains(stdout, "hi from a policy referrer") || strings.Contains(stdout, "not for the module") {
				t.Errorf("run: exit %d\n%s%s", code, stdout, stderr)
			}
			out := filepath.Join(dir, "out")
			if code, _, stderr := wasmgate(t, "pull", "--verified", "--policy", trust, ref, "-o", out); code != 0 {
				t.Fatalf("pull --verified: %s", stderr)
			}
			if got, err := os.ReadFile(filepath.Join(out, "policy.yaml")); err != nil || !bytes.Equal(got, sample.PolicyYAML()) {
				t.Errorf("pulled policy.yaml %q %v", got, err)
			}
		})
	}
}
