package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	in_toto "github.com/in-toto/in-toto-golang/in_toto"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/testrig/intotochain"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

const layoutGatePolicy = `version: v1
policies:
  - name: acme
    scopes: ["%s/wasm/*"]
    layouts:
      - name: release-chain
        keys: [owner.pub]
`

// The layout gate end to end through the CLI, on both registry kinds: a
// pushed module, its in-toto layout and links put on it with wasmgate
// attach as docs/ci.md says, verified under a policy requiring the layout
// (JSON that follows the schema, a VSA that lists the layout as input);
// with a link missing it is denied (exit 1) and the report names the
// step; a layout with inspections is denied (exit 1: no retry would help), never run.
func TestVerifyLayoutGateCLI(t *testing.T) {
	schema := compileSchema(t)
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			dir := t.TempDir()
			wasmPath, policyPath := sampleOnDisk(t)
			wasm, err := os.ReadFile(wasmPath)
			if err != nil {
				t.Fatal(err)
			}
			chain := intotochain.New(t, wasm)
			policy := filepath.Join(dir, "trust.yaml")
			write := func(name string, data []byte) string {
				t.Helper()
				path := filepath.Join(dir, name)
				if err := os.WriteFile(path, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return path
			}
			write("owner.pub", chain.Owner.PubPEM)
			write("trust.yaml", []byte(strings.Replace(layoutGatePolicy, "%s", reg.Host, 1)))

			// publish pushes the module to repo and attaches the layout and
			// the links of steps, one wasmgate attach each; it returns the
			// reference and the layout referrer's digest.
			publish := func(repo string, c *intotochain.Chain, steps ...string) (string, string) {
				ref := reg.Ref("wasm/"+repo, "v1")
				if code, _, stderr := wasmgate(t, "push", wasmPath, ref, "--policy", policyPath); code != 0 {
					t.Fatal(stderr)
				}
				layout, links := c.Files(t)
				code, stdout, stderr := wasmgate(t, "attach", "--artifact-type", evidence.ArtifactTypeInTotoLayout, ref, write(repo+".root.layout", layout))
				if code != 0 {
					t.Fatalf("attach the layout: %s", stderr)
				}
				for _, step := range steps {
					if code, _, stderr := wasmgate(t, "attach", "--artifact-type", evidence.ArtifactTypeInTotoLink, ref, write(repo+"."+step+".link", links[step])); code != 0 {
						t.Fatalf("attach the %s link: %s", step, stderr)
					}
				}
				return ref, strings.TrimSpace(stdout)
			}
			good, layoutDigest := publish("good", chain, "build", "package")
			noLink, _ := publish("no-link", chain, "build")
			inspected := intotochain.New(t, wasm)
			inspected.LayoutSigner = chain.Owner
			inspected.Layout.Inspect = []in_toto.Inspection{{Type: "inspection", Run: []string{"touch", "/tmp/wasmgate-ran-an-inspection"},
				SupplyChainItem: in_toto.SupplyChainItem{Name: "untar"}}}
			withInspection, _ := publish("inspected", inspected, "build", "package")

			vsa := filepath.Join(dir, "vsa.json")
			code, stdout, stderr := wasmgate(t, "verify", "--policy", policy, good, "--output", "json", "--emit-vsa", vsa)
			if code != exitOK {
				t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
			}
			validate(t, schema, stdout)
			res := verifyResult(t, stdout)
			if res.Verdict != verify.VerdictVerified || len(res.Layouts) != 1 || string(res.Layouts[0].Layout) != layoutDigest || len(res.Layouts[0].Links) != 2 {
				t.Fatalf("verified: %s", stdout)
			}
			if raw, err := os.ReadFile(vsa); err != nil || !strings.Contains(string(raw), strings.TrimPrefix(layoutDigest, "sha256:")) {
				t.Errorf("the VSA does not list the layout %s as input (%v):\n%s", layoutDigest, err, raw)
			}
			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, good)
			if code != exitOK || !strings.Contains(stdout, "✓ layout release-chain: layout "+layoutDigest+" verified with owner key "+chain.Owner.Pub.KeyID[:8]) {
				t.Errorf("text: exit %d\n%s", code, stdout)
			}

			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, noLink, "--output", "json")
			validate(t, schema, stdout)
			if c := failedCheck(verifyResult(t, stdout)); code != exitDenied || c == nil || c.Name != verify.CheckLayout || !strings.Contains(c.Reason, `step "package"`) {
				t.Errorf("a link missing: exit %d, failed %+v", code, c)
			}
			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, noLink)
			if code != exitDenied || !strings.Contains(stdout, "✗ layout release-chain: required in-toto layout not satisfied") ||
				!strings.Contains(stdout, " step package: in-toto step has too few valid links") || !strings.Contains(stdout, "\nDENIED") {
				t.Errorf("a link missing, text: exit %d\n%s", code, stdout)
			}

			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, withInspection)
			if code != exitDenied || !strings.Contains(stdout, "✗ layout release-chain: required in-toto layout not satisfied: cannot be verified by wasmgate") ||
				!strings.Contains(stdout, "DENIED: a required in-toto layout has inspections") {
				t.Errorf("inspections: exit %d\n%s", code, stdout)
			}
			if _, err := os.Stat("/tmp/wasmgate-ran-an-inspection"); err == nil {
				t.Error("an inspection's command ran")
			}

			if code, stdout, _ := wasmgate(t, "policy", "lint", policy); code != exitOK || !strings.Contains(stdout, "in-toto layout release-chain") {
				t.Errorf("policy lint: exit %d\n%s", code, stdout)
			}
		})
	}
}
