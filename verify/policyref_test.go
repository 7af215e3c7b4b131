package verify_test

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// otherPolicy is a valid permission policy that is not the sample's.
var otherPolicy = []byte("version: \"1.0\"\npermissions:\n  environment:\n    allow:\n      - key: OTHER\n")

// singleLayer replaces the fixture's artifact by the sample module alone,
// one layer as wkg and the CNCF TAG wasm layout write it, signed by
// release.
func singleLayer(t *testing.T, at where) *fixture {
	t.Helper()
	f := newFixture(t, at)
	ref := mustRef(t, f.ref)
	f.subject = testkit.Push(t, f.dst, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), nil, ref.Object()).Manifest
	f.cosign(t, "release", sign.FormatBundle)
	return f
}

// attachPolicy attaches policy as a referrer of the artifact; by signs it
// (as wasmgate sign REF@<digest> does), none for an unsigned one.
func (f *fixture) attachPolicy(t *testing.T, policy []byte, by ...string) ocispec.Descriptor {
	t.Helper()
	desc, err := referrers.AttachPolicy(testkit.Context(t), f.dst, f.subject, policy, referrers.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f.signPolicy(t, desc, by...)
	return desc
}

func (f *fixture) signPolicy(t *testing.T, desc ocispec.Descriptor, by ...string) {
	t.Helper()
	for _, k := range by {
		if _, err := sign.Cosign(testkit.Context(t), f.dst, desc, f.keys[k], sign.Options{}); err != nil {
			t.Fatal(err)
		}
	}
}

// policyRefPolicy: release and ci sign artifacts; release, and ops (an
// authority for policies only), sign permission policies.
func policyRefPolicy(scope, extra string) string {
	return policyOf(scope, 1, "release ci", "    permissionPolicy:\n      signedBy: [release, ops]\n      authorities:\n"+
		"        - name: ops\n          cosign: {key: keys/other.pub, insecureIgnoreTlog: true}\n"+extra)
}

// A single-layer artifact with its permission policy attached as a
// referrer, signed by an authority allowed to sign policies: verified,
// and Fetch hands the policy over as if it were the layer, saying where
// it came from. On both registry kinds (distribution without the
// Referrers API, go-containerregistry's with it) and an OCI layout.
func TestPolicyReferrerIsThePolicy(t *testing.T) {
	for _, at := range everywhere {
		t.Run(string(at), func(t *testing.T) {
			f := singleLayer(t, at)
			pol := f.attachPolicy(t, sample.PolicyYAML(), "release")
			f.attachPolicy(t, otherPolicy) // unsigned: never counts
			for _, required := range []bool{false, true} {
				extra := ""
				if required {
					extra = "    layers: {requirePolicy: true}\n"
				}
				p := f.policy(t, policyRefPolicy(f.scope(t), extra))
				a, res, err := mustVerifier(t, p, f.opener, verify.Options{}).Fetch(testkit.Context(t), mustRef(t, f.ref))
				if err != nil {
					t.Fatalf("required %v: %v; checks %+v", required, err, res.Checks)
				}
				src := a.PolicySource()
				if src.From != verify.PolicyFromReferrer || len(src.Referrers) != 1 || src.Referrers[0] != pol.Digest ||
					!slices.Equal(src.SignedBy, []string{"release"}) {
					t.Errorf("policy source %+v, want referrer %s signed by release", src, pol.Digest)
				}
				if !bytes.Equal(a.PolicyLayer(), sample.PolicyYAML()) || a.Permissions() == nil || len(a.Permissions().Permissions.Environment.Allow) != 1 {
					t.Errorf("policy %q", a.PolicyLayer())
				}
				rep := res.PermissionPolicy
				if rep == nil || rep.From != verify.PolicyFromReferrer || len(rep.Results) != 2 {
					t.Fatalf("report %+v", rep)
				}
				for _, r := range rep.Results {
					if r.Counted != (r.Referrer == pol.Digest) {
						t.Errorf("referrer %s counted %v: %s", r.Referrer, r.Counted, r.Reason)
					}
				}
				if c := check(res, verify.CheckPermissionPolicy); c.Status != verify.StatusPassed || !strings.Contains(c.Reason, pol.Digest.String()) {
					t.Errorf("check %+v", c)
				}
			}
		})
	}
}

func check(res *verify.Result, name string) verify.Check {
	for _, c := range res.Checks {
		if c.Name == name {
			return c
		}
	}
	return verify.Check{}
}

// What does not count, and what is refused.
func TestPolicyReferrerHostile(t *testing.T) {
	for _, at := range []where{atDistribution, atGGCR} {
		t.Run(string(at), func(t *testing.T) {
			cases := []struct {
				name     string
				setup    func(t *testing.T, f *fixture)
				required bool
				verdict  verify.Verdict
				err      error  // the failed check's
				from     string // the policy's origin when verified
				reason   string // in an ignored referrer's reason
			}{
				{name: "signed by an authority not allowed to sign policies", setup: func(t *testing.T, f *fixture) {
					f.attachPolicy(t, sample.PolicyYAML(), "ci")
				}, verdict: verify.VerdictVerified, reason: "signed by ci, not allowed"},
				{name: "signed by an authority not allowed, policy required", setup: func(t *testing.T, f *fixture) {
					f.attachPolicy(t, sample.PolicyYAML(), "ci")
				}, required: true, verdict: verify.VerdictDenied, err: verify.ErrNoPermissionPolicy, reason: "signed by ci, not allowed"},
				{name: "unsigned", setup: func(t *testing.T, f *fixture) {
					f.attachPolicy(t, sample.PolicyYAML())
				}, verdict: verify.VerdictVerified, reason: "no signature"},
				{name: "unsigned, policy required", setup: func(t *testing.T, f *fixture) {
					f.attachPolicy(t, sample.PolicyYAML())
				}, required: true, verdict: verify.VerdictDenied, err: verify.ErrLayers, reason: "no signature"},
				{name: "two signed policies that disagree", setup: func(t *testing.T, f *fixture) {
					f.attachPolicy(t, sample.PolicyYAML(), "release")
					f.attachPolicy(t, otherPolicy, "other") // ops's key
				}, verdict: verify.VerdictDenied, err: verify.ErrPolicyConflict},
				{name: "two signed byte-identical policies", setup: func(t *testing.T, f *fixture) {
					f.attachPolicy(t, sample.PolicyYAML(), "release")
					// Another referrer manifest, the same policy bytes.
					d, err := referrers.AttachPolicy(testkit.Context(t), f.dst, f.subject, sample.PolicyYAML(), referrers.AttachOptions{Annotations: map[string]string{"n": "2"}})
					if err != nil {
						t.Fatal(err)
					}
					f.signPolicy(t, d, "other") // ops's key
				}, verdict: verify.VerdictVerified, from: "referrer"},
				{name: "signed referrer that is not a valid policy", setup: func(t *testing.T, f *fixture) {
					bad := []byte("version: \"1.0\"\npermissions:\n  storage: {allow: [{uri: \"fs:///data\", access: [fly]}]}\n")
					d, err := referrers.Attach(testkit.Context(t), f.dst, f.subject, evidence.ArtifactTypeWasmPolicy,
						[]referrers.Blob{{MediaType: evidence.ArtifactTypeWasmPolicy, Data: bad}}, referrers.AttachOptions{})
					if err != nil {
						t.Fatal(err)
					}
					f.signPolicy(t, d, "release")
				}, verdict: verify.VerdictDenied, err: permissions.ErrInvalid},
				{name: "the policy layer wins over a signed referrer", setup: func(t *testing.T, f *fixture) {
					f.subject = testkit.Push(t, f.dst, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), sample.PolicyYAML(), mustRef(t, f.ref).Object()).Manifest
					f.cosign(t, "release", sign.FormatBundle)
					f.attachPolicy(t, otherPolicy, "release")
				}, required: true, verdict: verify.VerdictVerified, from: "layer"},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					f := singleLayer(t, at)
					tc.setup(t, f)
					extra := ""
					if tc.required {
						extra = "    layers: {requirePolicy: true}\n"
					}
					res, err := f.verify(t, f.policy(t, policyRefPolicy(f.scope(t), extra)), verify.Options{}, f.ref)
					if err != nil {
						t.Fatalf("undecided: %v", err)
					}
					if res.Verdict != tc.verdict {
						t.Fatalf("verdict %s, want %s; checks %+v", res.Verdict, tc.verdict, res.Checks)
					}
					c := check(res, verify.CheckPermissionPolicy)
					if tc.err != nil && (c.Status != verify.StatusFailed || !errors.Is(c.Err, tc.err)) {
						t.Errorf("permission policy check %s %v, want failed with %v", c.Status, c.Err, tc.err)
					}
					if tc.from != "" && (res.PermissionPolicy == nil || string(res.PermissionPolicy.From) != tc.from) {
						t.Errorf("policy from %+v, want %s", res.PermissionPolicy, tc.from)
					}
					if tc.reason != "" {
						if res.PermissionPolicy == nil || len(res.PermissionPolicy.Results) != 1 || res.PermissionPolicy.Results[0].Counted ||
							!strings.Contains(res.PermissionPolicy.Results[0].Reason, tc.reason) {
							t.Errorf("report %+v, want one ignored referrer: %s", res.PermissionPolicy, tc.reason)
						} else if res.PermissionPolicy.From != "" {
							t.Errorf("an ignored referrer became the policy: %+v", res.PermissionPolicy)
						}
					}
					if errors.Is(tc.err, verify.ErrPolicyConflict) {
						var ce *verify.PolicyConflictError
						if !errors.As(c.Err, &ce) || len(ce.Referrers) != 2 || ce.Policies[0] == ce.Policies[1] {
							t.Errorf("conflict %#v", c.Err)
						}
					}
					if tc.err != nil {
						if _, _, err := mustVerifier(t, f.policy(t, policyRefPolicy(f.scope(t), extra)), f.opener, verify.Options{}).Fetch(testkit.Context(t), mustRef(t, f.ref)); !errors.Is(err, verify.ErrNotVerified) {
							t.Errorf("Fetch: %v, want ErrNotVerified", err)
						}
					}
				})
			}
		})
	}
}

// A policy-only authority signs policies, never artifacts: an artifact it
// alone signed does not meet the threshold.
func TestPolicyOnlyAuthorityDoesNotSignArtifacts(t *testing.T) {
	f := newFixture(t, atGGCR)
	f.subject = testkit.Push(t, f.dst, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), nil, mustRef(t, f.ref).Object()).Manifest
	f.cosign(t, "other", sign.FormatBundle) // ops's key
	f.attachPolicy(t, sample.PolicyYAML(), "other")
	res, err := f.verify(t, f.policy(t, policyRefPolicy(f.scope(t), "")), verify.Options{}, f.ref)
	if err != nil {
		t.Fatal(err)
	}
	if c := check(res, verify.CheckSignatures); res.Verdict != verify.VerdictDenied || !errors.Is(c.Err, verify.ErrThreshold) {
		t.Errorf("verdict %s, signatures %+v", res.Verdict, c)
	}
	if res.PermissionPolicy == nil || res.PermissionPolicy.From != verify.PolicyFromReferrer || !slices.Equal(res.PermissionPolicy.SignedBy, []string{"ops"}) {
		t.Errorf("policy %+v", res.PermissionPolicy)
	}
}
