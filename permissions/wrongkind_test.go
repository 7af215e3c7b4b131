package permissions

import (
	"errors"
	"testing"

	"github.com/wasmgate/wasmgate/internal/sample"
)

// A trust policy given where a permission policy is expected (push once
// took both as --policy) is named as such, not blamed on its version.
func TestParseTrustPolicyIsNamed(t *testing.T) {
	cases := []struct {
		name      string
		doc       []byte
		line, col int
	}{
		{name: "the quickstart's trust policy", doc: sample.TrustPolicyYAML(), line: 8, col: 1},
		{name: "policies only", doc: []byte("policies: []\n"), line: 1, col: 1},
		{name: "version v1 only", doc: []byte("version: v1\n"), line: 1, col: 10},
		{name: "policies before version", doc: []byte("policies:\n  - name: x\nversion: v1\n"), line: 1, col: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.doc)
			if !errors.Is(err, ErrTrustPolicy) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want ErrTrustPolicy, which is ErrInvalid too", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Line != tc.line || e.Column != tc.col {
				t.Errorf("position: %+v, want line %d column %d", e, tc.line, tc.col)
			}
		})
	}
}

// A permission policy with a mistake is still reported by its mistake:
// only the trust policy's shape, without permissions:, is the other kind.
func TestParseTrustPolicyShapeNeedsNoPermissions(t *testing.T) {
	cases := []struct {
		name string
		doc  string
		want error
	}{
		{"version v1 with permissions", "version: v1\npermissions: {}\n", ErrUnsupportedVersion},
		{"policies beside permissions", "version: \"1.0\"\npermissions: {}\npolicies: []\n", ErrUnknownField},
		{"version 2.0", "version: \"2.0\"\n", ErrUnsupportedVersion},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if !errors.Is(err, tc.want) || errors.Is(err, ErrTrustPolicy) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	if _, err := Parse(sample.PolicyYAML()); err != nil {
		t.Errorf("the sample permission policy: %v", err)
	}
}
