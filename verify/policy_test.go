package verify_test

import (
	"context"
	"crypto"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/verify"
)

// writeTrust writes a cosign public key at dir/keys/k.pub and returns dir.
func writeTrust(t *testing.T) string {
	t.Helper()
	f := &fixture{dir: t.TempDir(), keys: map[string]crypto.Signer{}}
	f.key(t, "k")
	return f.dir
}

// Bad configuration: each one a *PolicyError wrapping the right sentinel
// and pointing at the line of the offending field.
func TestPolicyRejects(t *testing.T) {
	dir := writeTrust(t)
	head := "version: v1\npolicies:\n  - name: app\n    scopes: [\"r.test/app\"]\n"
	key := "    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n"
	cases := []struct {
		name  string
		yaml  string
		err   error
		line  int
		field string
	}{
		{"unknown top-level field", "version: v1\npolicy: []\n", verify.ErrPolicyUnknownField, 2, "policy"},
		{"unknown statement field", head + "    requireDigests: true\n", verify.ErrPolicyUnknownField, 5, "policies[0].requireDigests"},
		{"wrong version", "version: v2\npolicies: []\n", verify.ErrPolicyInvalid, 1, "version"},
		{"not YAML", "version: [\n", verify.ErrPolicySyntax, 0, ""},
		{"CEL does not compile", head + key + "    attestations:\n      - predicateType: slsaprovenance1\n        conditions: ['predicate.x ==']\n", verify.ErrPolicyInvalid, 11, "policies[0].attestations[0].conditions[0]"},
		{"CEL not boolean", head + key + "    attestations:\n      - predicateType: slsaprovenance1\n        conditions: ['predicate.x']\n", verify.ErrPolicyInvalid, 11, "policies[0].attestations[0].conditions[0]"},
		{"key file missing", head + "    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/nope.pub, insecureIgnoreTlog: true}\n", verify.ErrTrustMaterial, 8, "policies[0].signatures.authorities[0].cosign.key"},
		{"key file not a key", head + "    signatures:\n      authorities:\n        - name: k\n          cosign: {key: trust.yaml, insecureIgnoreTlog: true}\n", verify.ErrTrustMaterial, 8, "policies[0].signatures.authorities[0].cosign.key"},
		{"threshold above authorities", head + "    signatures:\n      threshold: 2\n" + key[len("    signatures:\n"):], verify.ErrPolicyInvalid, 6, "policies[0].signatures.threshold"},
		{"same scope in two policies", head + "    allowUnsigned: true\n  - name: other\n    scopes: [\"r.test/app\"]\n    allowUnsigned: true\n", verify.ErrPolicyInvalid, 7, "policies[1].scopes[0]"},
		// A statement that requires nothing is refused unless it says so.
		{"no signature and no attestation", head, verify.ErrPolicyInvalid, 3, "policies[0].signatures"},
		{"allowUnsigned that is not a boolean", head + "    allowUnsigned: sure\n", verify.ErrPolicyInvalid, 5, "policies[0].allowUnsigned"},
		// Without a TUF client (LoadOptions.Roots), the log's keys must come from a file.
		{"key without trusted root or insecureIgnoreTlog", head + "    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub}\n", verify.ErrPolicyInvalid, 8, "policies[0].signatures.authorities[0].cosign.trustedRoot"},
		{"signedBy unknown authority", head + key + "    attestations:\n      - predicateType: slsaprovenance1\n        signedBy: [ci]\n", verify.ErrPolicyInvalid, 11, "policies[0].attestations[0].signedBy[0]"},
		{"bad mode", head + "    mode: lenient\n", verify.ErrPolicyInvalid, 5, "policies[0].mode"},
		{"bad scope", head[:len(head)-len("    scopes: [\"r.test/app\"]\n")] + "    scopes: [\"r.test/*/app\"]\n", verify.ErrPolicyInvalid, 4, "policies[0].scopes[0]"},
		{"scope with a tag", head[:len(head)-len("    scopes: [\"r.test/app\"]\n")] + "    scopes: [\"r.test/app:v1\"]\n", verify.ErrPolicyInvalid, 4, "policies[0].scopes[0]"},
		{"bad maxBytes", head + "    layers: {maxBytes: 12 apples}\n", verify.ErrPolicyInvalid, 5, "policies[0].layers.maxBytes"},
		{"duplicate key", head + "    mode: warn\n    mode: audit\n", verify.ErrPolicyInvalid, 6, "policies[0].mode"},
		{"no policies", "version: v1\npolicies: []\n", verify.ErrPolicyInvalid, 1, "policies"},
		{"authority both kinds", head + "    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n          notation: {trustPolicy: a, trustStore: b}\n", verify.ErrPolicyInvalid, 9, "policies[0].signatures.authorities[0].notation"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, "trust.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := verify.LoadPolicy(context.Background(), path, verify.LoadOptions{})
			var pe *verify.PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want a *PolicyError wrapping %v", err, tc.err)
			}
			if pe.Line != tc.line || pe.Field != tc.field {
				t.Errorf("at line %d field %q, want line %d field %q: %v", pe.Line, pe.Field, tc.line, tc.field, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("message does not name the file: %v", err)
			}
		})
	}
}

// Scope precedence: exact, then the longest prefix (/* before /** at the
// same prefix), then "*"; nothing matching is ErrNoScope.
func TestSelect(t *testing.T) {
	p, err := verify.ParsePolicy(context.Background(), []byte(`version: v1
policies:
  - name: exact
    scopes: ["r.test/acme/app"]
    allowUnsigned: true
  - name: acme-one-level
    scopes: ["r.test/acme/*"]
    allowUnsigned: true
  - name: acme-any-depth
    scopes: ["r.test/acme/**"]
    allowUnsigned: true
  - name: deep
    scopes: ["r.test/acme/team/**"]
    allowUnsigned: true
  - name: fallback
    scopes: ["*"]
    allowUnsigned: true
`), "", verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for repo, want := range map[string]string{
		"r.test/acme/app":         "exact",
		"r.test/acme/other":       "acme-one-level",
		"r.test/acme/x/y":         "acme-any-depth",
		"r.test/acme/team/a":      "deep",
		"r.test/acme/team/a/b":    "deep",
		"r.test/acme":             "fallback",
		"r.test/acmeish/app":      "fallback",
		"elsewhere.test/anything": "fallback",
	} {
		st, _, err := p.Select(repo)
		if err != nil || st.Name != want {
			t.Errorf("%s: got %v %v, want %s", repo, st, err, want)
		}
	}
	p, err = verify.ParsePolicy(context.Background(), []byte("version: v1\npolicies:\n  - name: only\n    scopes: [\"r.test/acme/**\"]\n    allowUnsigned: true\n"), "", verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := p.Select("r.test/other/app"); !errors.Is(err, verify.ErrNoScope) {
		t.Errorf("got %v, want ErrNoScope", err)
	}
}

// Trust material is bounded: a Notation trust store holding a file over
// the limit is refused (it used to be hashed up to the limit and the rest
// ignored), with the line of the trustStore field.
func TestPolicyRejectsOversizedTrustFile(t *testing.T) {
	dir := t.TempDir()
	store := filepath.Join(dir, "notation", "truststore", "x509", "ca", "acme")
	if err := os.MkdirAll(store, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(store, "big.pem"), make([]byte, 5<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notation", "trustpolicy.json"), []byte(`{"version":"1.0","trustPolicies":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(path, []byte("version: v1\npolicies:\n  - name: a\n    scopes: [\"*\"]\n    signatures:\n      authorities:\n        - name: corp\n          notation: {trustPolicy: notation/trustpolicy.json, trustStore: notation}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := verify.LoadPolicy(context.Background(), path, verify.LoadOptions{})
	var pe *verify.PolicyError
	if !errors.As(err, &pe) || !errors.Is(err, verify.ErrTrustMaterial) || pe.Line != 8 || !strings.Contains(pe.Field, "trustStore") {
		t.Fatalf("got %v", err)
	}
}
