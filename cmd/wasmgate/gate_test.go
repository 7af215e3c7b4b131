package main

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/wasmgate/wasmgate/internal/testrig/testpki"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/verify"
)

const gatePolicy = `version: v1
policies:
  - name: acme
    scopes: ["%s/wasm/*"]
    signatures:
      threshold: 2
      authorities:
        - name: release
          cosign: {key: release.pub, insecureIgnoreTlog: true}
        - name: corp
          notation: {trustPolicy: notation/trustpolicy.json, trustStore: notation}
    attestations:
      - predicateType: https://slsa.dev/provenance/v1
        signedBy: [release]
        conditions: ['predicate.runDetails.builder.id.startsWith("https://github.com/acme/")']
        maxAge: 720h
    layers: {requirePolicy: true}
`

// The gate end to end through the CLI, on both registry kinds: an
// artifact signed with cosign and Notation and attested with SLSA
// provenance passes a policy requiring all three; with one of the three
// missing it is denied (exit 1) and the report names what is missing;
// several references at once; JSON that follows the schema in docs/;
// SARIF; exit 3 for an unreachable registry and 2 for a bad policy.
func TestVerifyGateCLI(t *testing.T) {
	schema := compileSchema(t)
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			cliEnv(t, reg)
			t.Setenv("COSIGN_PASSWORD", "")
			dir := t.TempDir()
			if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "release")); code != 0 {
				t.Fatal(stderr)
			}
			root := testpki.NewRoot(t, "acme root (TEST ONLY)", testpki.P256)
			leaf := root.Issue(t, testpki.LeafOptions{CommonName: "acme release"})
			notaryKey, notaryCert := filepath.Join(dir, "notary.key"), filepath.Join(dir, "notary.crt")
			if err := os.WriteFile(notaryKey, testpki.KeyPEM(t, leaf.Key), 0o600); err != nil {
				t.Fatal(err)
			}
			testpki.WritePEM(t, notaryCert, leaf.Chain...)
			testpki.WriteNotationTrust(t, filepath.Join(dir, "notation"), "acme", []*x509.Certificate{root.Root()}, "")
			predicate := filepath.Join(dir, "provenance.json")
			if err := os.WriteFile(predicate, []byte(sprintfTime(`{"buildDefinition":{"buildType":"https://example.test/build@v1","externalParameters":{"ref":"refs/heads/main"}},
"runDetails":{"builder":{"id":"https://github.com/acme/builder@v1"},"metadata":{"finishedOn":"%s"}}}`)), 0o644); err != nil {
				t.Fatal(err)
			}
			policy := filepath.Join(dir, "trust.yaml")
			if err := os.WriteFile(policy, []byte(strings.Replace(gatePolicy, "%s", reg.Host, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			wasmPath, policyPath := sampleOnDisk(t)
			publish := func(repo string, cosign, notation, attest bool) string {
				ref := reg.Ref("wasm/"+repo, "v1")
				if code, _, stderr := wasmgate(t, "push", wasmPath, ref, "--policy", policyPath); code != 0 {
					t.Fatal(stderr)
				}
				steps := [][]string{}
				if cosign {
					steps = append(steps, []string{"sign", ref, "--key", filepath.Join(dir, "release.key")})
				}
				if notation {
					steps = append(steps, []string{"sign", ref, "--notation-key", notaryKey, "--notation-cert", notaryCert})
				}
				if attest {
					steps = append(steps, []string{"attest", ref, "--key", filepath.Join(dir, "release.key"), "--type", "slsaprovenance1", "--predicate", predicate})
				}
				for _, args := range steps {
					if code, _, stderr := wasmgate(t, args...); code != 0 {
						t.Fatalf("%v: %s", args, stderr)
					}
				}
				return ref
			}
			all := publish("all", true, true, true)
			noAttestation := publish("no-attestation", true, true, false)
			noNotation := publish("no-notation", true, false, true)

			code, stdout, stderr := wasmgate(t, "verify", "--policy", policy, all, "--output", "json")
			if code != exitOK {
				t.Fatalf("all three: exit %d\n%s\n%s", code, stdout, stderr)
			}
			validate(t, schema, stdout)
			res := verifyResult(t, stdout)
			if res.Verdict != verify.VerdictVerified || res.Signatures.Satisfied != 2 || !res.Attestations[0].Verified || len(res.Checks) != 5 {
				t.Fatalf("all three: %s", stdout)
			}

			// --result-cache-ttl: the second run answers from the kept
			// verdict, and says so in JSON (schema) and text.
			for i, want := range []bool{false, true} {
				code, stdout, stderr = wasmgate(t, "verify", "--policy", policy, all, "--output", "json", "--result-cache-ttl", "1h")
				if code != exitOK {
					t.Fatalf("result cache run %d: exit %d\n%s", i, code, stderr)
				}
				validate(t, schema, stdout)
				if got := verifyResult(t, stdout).Cached != nil; got != want {
					t.Fatalf("result cache run %d: cached %v, want %v", i, got, want)
				}
			}
			if code, stdout, _ = wasmgate(t, "verify", "--policy", policy, all, "--result-cache-ttl", "1h"); code != exitOK || !strings.Contains(stdout, "from the result cache") {
				t.Fatalf("text on a hit: exit %d\n%s", code, stdout)
			}
			if code, _, stderr = wasmgate(t, "verify", "--key", filepath.Join(dir, "release.pub"), "--result-cache-ttl", "1h", all); code != exitUsage || !strings.Contains(stderr, "--policy") {
				t.Fatalf("--result-cache-ttl without --policy: exit %d: %s", code, stderr)
			}

			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, noAttestation, "--output", "json")
			validate(t, schema, stdout)
			res = verifyResult(t, stdout)
			if c := failedCheck(res); code != exitDenied || c == nil || c.Name != verify.CheckAttestation || c.Subject != "https://slsa.dev/provenance/v1" || !strings.Contains(c.Reason, "no attestation of this type found") {
				t.Errorf("no attestation: exit %d, failed %+v", code, c)
			}
			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, noNotation)
			if code != exitDenied || !strings.Contains(stdout, "✗ signatures: signature threshold not met: 1 of 2 required authorities signed; missing corp (no signature found)") || !strings.Contains(stdout, "\nDENIED") {
				t.Errorf("no Notation: exit %d\n%s", code, stdout)
			}

			// Three references at once: one report, exit 1 for the denials.
			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, all, noAttestation, noNotation, "--output", "json")
			validate(t, schema, stdout)
			var rep verify.Report
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitDenied || len(rep.Results) != 3 ||
				rep.Results[0].Verdict != verify.VerdictVerified || rep.Results[1].Verdict != verify.VerdictDenied || rep.Results[2].Verdict != verify.VerdictDenied || rep.PolicyDigest == "" {
				t.Errorf("three refs: exit %d %v\n%s", code, err, stdout)
			}

			// SARIF: one result per check that did not pass, at the statement.
			code, stdout, _ = wasmgate(t, "verify", "--policy", policy, all, noNotation, "--output", "sarif")
			var sarif struct {
				Version string `json:"version"`
				Runs    []struct {
					Results []struct {
						RuleID    string `json:"ruleId"`
						Level     string `json:"level"`
						Locations []struct {
							PhysicalLocation struct {
								ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
								Region           struct{ StartLine int } `json:"region"`
							} `json:"physicalLocation"`
						} `json:"locations"`
					} `json:"results"`
				} `json:"runs"`
			}
			if err := json.Unmarshal([]byte(stdout), &sarif); err != nil || code != exitDenied || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 {
				t.Fatalf("sarif: exit %d %v\n%s", code, err, stdout)
			}
			// One result per check that did not pass, and one per insecure
			// option of the policy (its keys are used without a log).
			var failed, insecure []int
			for i, r := range sarif.Runs[0].Results {
				if r.RuleID == "wasmgate/insecure" {
					insecure = append(insecure, i)
				} else {
					failed = append(failed, i)
				}
			}
			if len(failed) != 1 || len(insecure) == 0 || sarif.Runs[0].Results[insecure[0]].Level != "warning" {
				t.Fatalf("sarif: %d failed checks, %d insecure findings\n%s", len(failed), len(insecure), stdout)
			}
			r := sarif.Runs[0].Results[failed[0]]
			if r.RuleID != "wasmgate/signatures" || r.Level != "error" || r.Locations[0].PhysicalLocation.ArtifactLocation.URI != policy || r.Locations[0].PhysicalLocation.Region.StartLine != 3 {
				t.Errorf("sarif result: %+v", r)
			}
		})
	}
}

func TestVerifyGateExitCodes(t *testing.T) {
	cliEnv(t, nil)
	t.Setenv("COSIGN_PASSWORD", "")
	dir := t.TempDir()
	if code, _, stderr := wasmgate(t, "generate-key-pair", "--output-key-prefix", filepath.Join(dir, "release")); code != 0 {
		t.Fatal(stderr)
	}
	good := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(good, []byte("version: v1\npolicies:\n  - name: all\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: release\n          cosign: {key: release.pub, insecureIgnoreTlog: true}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Nothing listens on port 1 of loopback: could not decide.
	t.Setenv(envPlainHTTP, "127.0.0.1:1")
	code, stdout, stderr := wasmgate(t, "verify", "--policy", good, "127.0.0.1:1/wasm/app:v1", "--timeout", "2s", "--output", "json")
	if code != exitUndecided || verifyResult(t, stdout).Verdict != verify.VerdictUndecided {
		t.Errorf("unreachable: exit %d\n%s\n%s", code, stdout, stderr)
	}
	bad := filepath.Join(dir, "bad.yaml")
	for _, tc := range []struct{ yaml, want string }{
		{"version: v1\npolicies:\n  - name: all\n    scopes: [\"*\"]\n    requireDigests: true\n", "bad.yaml:5:5: policies[0].requireDigests: unknown field"},
		{"version: v1\npolicies:\n  - name: a\n    scopes: [\"*\"]\n    allowUnsigned: true\n  - name: b\n    scopes: [\"*\"]\n    allowUnsigned: true\n", `bad.yaml:7:14: policies[1].scopes[0]: scope "*" is also claimed by policy a`},
		{"version: v1\npolicies:\n  - name: a\n    scopes: [\"*\"]\n", "bad.yaml:3:5: policies[0].signatures: requires no signature, no attestation and no layout"},
		{"version: v1\npolicies:\n  - name: a\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: k\n          cosign: {key: missing.pub, insecureIgnoreTlog: true}\n", "bad.yaml:8:25: policies[0].signatures.authorities[0].cosign.key: cannot read missing.pub"},
	} {
		if err := os.WriteFile(bad, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		if code, _, stderr := wasmgate(t, "verify", "--policy", bad, "127.0.0.1:1/wasm/app:v1"); code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("bad policy: exit %d, want 2 and %q in\n%s", code, tc.want, stderr)
		}
	}
	if code, _, stderr := wasmgate(t, "verify", "--policy", good, "--key", filepath.Join(dir, "release.pub"), "127.0.0.1:1/wasm/app:v1"); code != exitUsage || !strings.Contains(stderr, "do not mix") {
		t.Errorf("--policy with --key: exit %d %s", code, stderr)
	}
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "docs", "verify-result.v1.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func validate(t *testing.T, s *jsonschema.Schema, out string) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(out)))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Validate(doc); err != nil {
		t.Errorf("the report does not follow docs/verify-result.v1.schema.json: %v", err)
	}
}

func failedCheck(r *verify.Result) *verify.Check {
	for _, c := range r.Checks {
		if c.Status == verify.StatusFailed {
			return &c
		}
	}
	return nil
}

func sprintfTime(format string) string {
	return strings.Replace(format, "%s", time.Now().UTC().Format(time.RFC3339), 1)
}
