package verify_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

var sprintf = fmt.Sprintf

const all = "release ci other corp"

// authority definitions of the matrix: two cosign keys that sign, one
// that never does, and the Notation PKI.
var authorityYAML = map[string]string{
	"release": "cosign: {key: keys/release.pub, insecureIgnoreTlog: true}",
	"ci":      "cosign: {key: keys/ci.pub, insecureIgnoreTlog: true}",
	"other":   "cosign: {key: keys/other.pub, insecureIgnoreTlog: true}",
	"corp":    "notation: {trustPolicy: notation/trustpolicy.json, trustStore: notation}",
}

// policyOf is one statement over scope requiring threshold of the named
// authorities, plus extra lines.
func policyOf(scope string, threshold int, names string, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: v1\npolicies:\n  - name: app\n    scopes: [%q]\n    signatures:\n      threshold: %d\n      authorities:\n", scope, threshold)
	for _, n := range strings.Fields(names) {
		fmt.Fprintf(&b, "        - name: %s\n          %s\n", n, authorityYAML[n])
	}
	return b.String() + extra
}

const slsaRule = `    attestations:
      - predicateType: slsaprovenance1
        signedBy: [%s]
        conditions: ['predicate.runDetails.builder.id.startsWith("https://github.com/acme/")']
        maxAge: 720h
`

// The verify matrix, on both registry kinds and an OCI layout: the same
// artifact signed with cosign (bundle by release, legacy by ci), Notation
// and an SLSA provenance attestation, checked under policies that each
// require a different part of that evidence, or evidence that is absent.
func TestVerifyMatrix(t *testing.T) {
	for _, at := range everywhere {
		t.Run(string(at), func(t *testing.T) {
			f := newFixture(t, at)
			f.cosign(t, "release", sign.FormatBundle)
			f.cosign(t, "ci", sign.FormatLegacy)
			f.notation(t)
			f.attest(t, "release", time.Now())
			scope := f.scope(t)
			pinned := f.pinned(t)
			cases := []struct {
				name    string
				policy  string
				ref     string
				verdict verify.Verdict
				pass    bool
				err     error // the failed check's error
			}{
				{"cosign only", policyOf(scope, 1, "release", ""), f.ref, verify.VerdictVerified, true, nil},
				{"cosign legacy only", policyOf(scope, 1, "ci", ""), f.ref, verify.VerdictVerified, true, nil},
				{"cosign key that never signed", policyOf(scope, 1, "other", ""), f.ref, verify.VerdictDenied, false, verify.ErrThreshold},
				{"notation only", policyOf(scope, 1, "corp", ""), f.ref, verify.VerdictVerified, true, nil},
				{"threshold 2 of 4 met", policyOf(scope, 2, all, ""), f.ref, verify.VerdictVerified, true, nil},
				{"threshold 4 of 4 not met", policyOf(scope, 4, all, ""), f.ref, verify.VerdictDenied, false, verify.ErrThreshold},
				{"attestation required", policyOf(scope, 1, all, sprintf(slsaRule, "release")), f.ref, verify.VerdictVerified, true, nil},
				{"attestation by a signer that did not attest", policyOf(scope, 1, all, sprintf(slsaRule, "ci")), f.ref, verify.VerdictDenied, false, verify.ErrAttestation},
				{"attestation condition false", policyOf(scope, 1, all, strings.Replace(sprintf(slsaRule, "release"), "acme/", "evil/", 1)), f.ref, verify.VerdictDenied, false, verify.ErrAttestation},
				{"requireDigest with a tag", policyOf(scope, 1, all, "    requireDigest: true\n"), f.ref, verify.VerdictDenied, false, verify.ErrNotPinned},
				{"requireDigest pinned", policyOf(scope, 1, all, "    requireDigest: true\n"), pinned, verify.VerdictVerified, true, nil},
				{"warn passes a denial", policyOf(scope, 4, all, "    mode: warn\n"), f.ref, verify.VerdictDenied, true, verify.ErrThreshold},
				{"audit passes a denial", policyOf(scope, 4, all, "    mode: audit\n"), f.ref, verify.VerdictDenied, true, verify.ErrThreshold},
				{"no scope covers it", policyOf("registry.invalid/nothing/**", 1, "release", ""), f.ref, verify.VerdictDenied, false, verify.ErrNoScope},
				{"layer over maxBytes", policyOf(scope, 1, all, "    layers: {requirePolicy: true, maxBytes: 1Ki}\n"), f.ref, verify.VerdictDenied, false, verify.ErrLayers},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					res, err := f.verify(t, f.policy(t, tc.policy), verify.Options{}, tc.ref)
					if err != nil {
						t.Fatalf("undecided: %v", err)
					}
					if res.Verdict != tc.verdict || res.Pass != tc.pass {
						t.Fatalf("verdict %s pass %v, want %s %v; checks %+v", res.Verdict, res.Pass, tc.verdict, tc.pass, res.Checks)
					}
					if tc.err == nil {
						for _, c := range res.Checks {
							if c.Status != verify.StatusPassed {
								t.Errorf("check %s %s: %s", c.Name, c.Status, c.Reason)
							}
						}
						if res.Digest != f.subject.Digest {
							t.Errorf("digest %s, want %s", res.Digest, f.subject.Digest)
						}
						return
					}
					var found bool
					for _, c := range res.Failed() {
						found = found || errors.Is(c.Err, tc.err)
					}
					if !found {
						t.Errorf("no failed check wraps %v: %+v", tc.err, res.Failed())
					}
				})
			}
		})
	}
}
