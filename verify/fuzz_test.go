package verify_test

import (
	"context"
	"errors"
	"testing"

	"github.com/wasmgate/wasmgate/verify"
)

// FuzzParsePolicy: any trust policy text either parses into a policy whose
// statements each have a name, scopes and a mode, with a threshold its
// authorities can meet, or fails with a *PolicyError wrapping one of the
// policy sentinels. Selecting a statement never panics. Paths resolve
// against a directory with no trust material, so policies that name files
// fail with ErrTrustMaterial: the parser is fuzzed, not the file system.
func FuzzParsePolicy(f *testing.F) {
	f.Add([]byte("version: v1\npolicies:\n  - name: a\n    scopes: [\"r.test/a/*\", \"*\"]\n    requireDigest: true\n    mode: warn\n"))
	f.Add([]byte("version: v1\npolicies:\n  - name: a\n    scopes: [\"r.test/**\"]\n    signatures:\n      threshold: 2\n      authorities:\n        - name: k\n          cosign: {key: k.pub, insecureIgnoreTlog: true}\n"))
	f.Add([]byte("version: v1\npolicies:\n  - name: a\n    scopes: [\"*\"]\n    attestations:\n      - predicateType: slsaprovenance1\n        conditions: ['predicate.x == \"y\"']\n        maxAge: 1h\n    layers: {requirePolicy: true, allowUnknown: false, maxBytes: 64Mi}\n"))
	f.Add([]byte("version: v1\npolicies:\n  - &a {name: a, scopes: ['*']}\n  - *a\n"))
	f.Add([]byte("version: v1\npolicies: [{name: a, scopes: ['r.test/a']}, {name: b, scopes: ['r.test/a']}]\n"))
	sentinels := []error{verify.ErrPolicySyntax, verify.ErrPolicyUnknownField, verify.ErrPolicyInvalid, verify.ErrTrustMaterial}
	f.Fuzz(func(t *testing.T, raw []byte) {
		p, err := verify.ParsePolicy(context.Background(), raw, "", verify.LoadOptions{})
		if err != nil {
			var pe *verify.PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("not a *PolicyError: %v", err)
			}
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("no sentinel: %v", err)
		}
		if len(p.Statements()) == 0 || p.Digest() == "" {
			t.Fatalf("accepted an empty policy: %q", raw)
		}
		for _, s := range p.Statements() {
			if s.Name == "" || len(s.Scopes) == 0 || s.Threshold > len(s.Authorities) {
				t.Fatalf("accepted a broken statement %+v from %q", s, raw)
			}
			switch s.Mode {
			case verify.ModeEnforce, verify.ModeWarn, verify.ModeAudit:
			default:
				t.Fatalf("mode %q", s.Mode)
			}
			for _, scope := range s.Scopes {
				if st, _, err := p.Select(scope); err != nil && scope != "*" && !errors.Is(err, verify.ErrNoScope) {
					t.Fatalf("select %q: %v %v", scope, st, err)
				}
			}
		}
		_ = p.Explain()
	})
}
