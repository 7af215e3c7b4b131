package verify_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/verify"
)

// permissionPolicy: who may sign a policy referrer, each mistake at its
// line with its field.
func TestPermissionPolicyParseRejects(t *testing.T) {
	dir := writeTrust(t)
	head := "version: v1\npolicies:\n  - name: app\n    scopes: [\"r.test/app\"]\n" +
		"    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n"
	ops := "        - name: ops\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n"
	cases := []struct {
		name, yaml, field string
		err               error
		line              int
	}{
		{"unknown field", head + "    permissionPolicy:\n      signers: [k]\n", "policies[0].permissionPolicy.signers", verify.ErrPolicyUnknownField, 10},
		{"signedBy missing", head + "    permissionPolicy: {authorities: []}\n", "policies[0].permissionPolicy.signedBy", verify.ErrPolicyInvalid, 9},
		{"signedBy empty", head + "    permissionPolicy:\n      signedBy: []\n", "policies[0].permissionPolicy.signedBy", verify.ErrPolicyInvalid, 10},
		{"signedBy not a list", head + "    permissionPolicy:\n      signedBy: k\n", "policies[0].permissionPolicy.signedBy", verify.ErrPolicyInvalid, 10},
		{"signedBy unknown", head + "    permissionPolicy:\n      signedBy: [k, ci]\n", "policies[0].permissionPolicy.signedBy[1]", verify.ErrPolicyInvalid, 10},
		{"signedBy twice", head + "    permissionPolicy:\n      signedBy: [k, k]\n", "policies[0].permissionPolicy.signedBy[1]", verify.ErrPolicyInvalid, 10},
		{"authority named like the statement's", head + "    permissionPolicy:\n      signedBy: [k]\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n",
			"policies[0].permissionPolicy.authorities[0].name", verify.ErrPolicyInvalid, 12},
		{"authority key missing", head + "    permissionPolicy:\n      signedBy: [ops]\n      authorities:\n        - name: ops\n          cosign: {key: keys/nope.pub, insecureIgnoreTlog: true}\n",
			"policies[0].permissionPolicy.authorities[0].cosign.key", verify.ErrTrustMaterial, 13},
		// A policy-only authority signs policies, not artifacts nor attestations.
		{"attestation signed by a policy-only authority", head + "    permissionPolicy:\n      signedBy: [ops]\n      authorities:\n" + ops +
			"    attestations:\n      - predicateType: slsaprovenance1\n        signedBy: [ops]\n", "policies[0].attestations[0].signedBy[0]", verify.ErrPolicyInvalid, 16},
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
			if !strings.Contains(err.Error(), path+":") {
				t.Errorf("message does not say file:line: %v", err)
			}
		})
	}
}

// The accepted forms: signers from the statement, and policy-only ones
// that never count towards the threshold; NewPolicy validates the same.
func TestPermissionPolicyParses(t *testing.T) {
	dir := writeTrust(t)
	yaml := "version: v1\npolicies:\n  - name: app\n    scopes: [\"r.test/app\"]\n" +
		"    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n" +
		"    permissionPolicy:\n      signedBy: [k, ops]\n      authorities:\n        - name: ops\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n" +
		"    layers: {requirePolicy: true}\n"
	path := filepath.Join(dir, "trust.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := verify.LoadPolicy(context.Background(), path, verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st := p.Statements()[0]
	r := st.PermissionPolicy
	if r == nil || !slices.Equal(r.SignedBy, []string{"k", "ops"}) || len(r.Authorities) != 1 || r.Authorities[0].Name != "ops" {
		t.Fatalf("permissionPolicy %+v", r)
	}
	if len(st.Authorities) != 1 || st.Threshold != 1 {
		t.Errorf("the policy-only authority leaked into signatures: %d authorities, threshold %d", len(st.Authorities), st.Threshold)
	}
	// The copy is deep: changing it changes nothing of the policy's.
	r.SignedBy[0] = "x"
	if p.Statements()[0].PermissionPolicy.SignedBy[0] != "k" {
		t.Error("Statements shares permissionPolicy.signedBy")
	}

	st.PermissionPolicy = &verify.PermissionPolicyRule{SignedBy: []string{"nobody"}}
	if _, err := verify.NewPolicy(st); !errors.Is(err, verify.ErrPolicyInvalid) {
		t.Errorf("NewPolicy with signedBy naming nobody: %v", err)
	}
	st.PermissionPolicy = &verify.PermissionPolicyRule{SignedBy: []string{"k"}}
	if _, err := verify.NewPolicy(st); err != nil {
		t.Errorf("NewPolicy: %v", err)
	}
}

// Explain (wasmgate policy lint) says where the permission policy may
// come from, and who signs policies only.
func TestPermissionPolicyExplained(t *testing.T) {
	dir := writeTrust(t)
	yaml := "version: v1\npolicies:\n  - name: app\n    scopes: [\"r.test/app\"]\n" +
		"    signatures:\n      authorities:\n        - name: k\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n" +
		"    permissionPolicy:\n      signedBy: [k, ops]\n      authorities:\n        - name: ops\n          cosign: {key: keys/k.pub, insecureIgnoreTlog: true}\n" +
		"    layers: {requirePolicy: true}\n"
	p, err := verify.ParsePolicy(context.Background(), []byte(yaml), filepath.Join(dir, "trust.yaml"), verify.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := p.Explain()
	for _, want := range []string{
		"a permission policy is required: the artifact's policy layer, or a policy referrer signed by k or ops",
		"- ops (signs permission policies only)",
		"ops: insecureIgnoreTlog",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("Explain lacks %q:\n%s", want, got)
		}
	}
}
