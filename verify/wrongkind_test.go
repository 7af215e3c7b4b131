package verify_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/verify"
)

// A permission policy given as the trust policy is named as such, with
// its position, before any field of it is blamed.
func TestParsePolicyPermissionPolicyIsNamed(t *testing.T) {
	_, err := verify.ParsePolicy(context.Background(), sample.PolicyYAML(), "perms.yaml", verify.LoadOptions{})
	if !errors.Is(err, verify.ErrPermissionPolicy) || !errors.Is(err, verify.ErrPolicyInvalid) {
		t.Fatalf("err = %v, want ErrPermissionPolicy, which is ErrPolicyInvalid too", err)
	}
	var pe *verify.PolicyError
	if !errors.As(err, &pe) || pe.File != "perms.yaml" || pe.Line != 5 || pe.Column != 1 {
		t.Fatalf("err = %#v, want a *PolicyError at perms.yaml:5:1", err)
	}
	for _, want := range []string{"perms.yaml:5:1", "permission policy (permissions:), not a trust policy", "push --permissions", "version: v1, policies:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q does not say %q", err, want)
		}
	}
}

// Only the permission policy's shape is the other kind: a trust policy
// with a stray permissions key is a trust policy with an unknown field.
func TestParsePolicyStrayPermissionsKey(t *testing.T) {
	doc := "version: v1\npolicies:\n  - name: all\n    scopes: [\"*\"]\n    allowUnsigned: true\npermissions: {}\n"
	_, err := verify.ParsePolicy(context.Background(), []byte(doc), "", verify.LoadOptions{})
	if !errors.Is(err, verify.ErrPolicyUnknownField) || errors.Is(err, verify.ErrPermissionPolicy) {
		t.Errorf("err = %v, want ErrPolicyUnknownField", err)
	}
}
