package verify_test

import (
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// BenchmarkVerify is the whole pipeline on one artifact in an in-process
// registry with the Referrers API: policy selection, resolve, manifest and
// layer digests (2.3 MB of wasm), discovery, a cosign bundle, a Notation
// signature and a SLSA attestation with a CEL condition.
func BenchmarkVerify(b *testing.B) {
	f := newFixture(b, atGGCR)
	f.cosign(b, "release", sign.FormatBundle)
	f.notation(b)
	f.attest(b, "release", time.Now())
	p := f.policy(b, policyOf(f.scope(b), 2, "release corp", sprintf(slsaRule, "release")+"    layers: {requirePolicy: true}\n"))
	v, err := verify.New(p, f.opener, verify.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ref := mustRef(b, f.ref)
	b.ResetTimer()
	for b.Loop() {
		res, err := v.Verify(testkit.Context(b), ref)
		if err != nil || res.Verdict != verify.VerdictVerified {
			b.Fatalf("%v %+v", err, res.Failed())
		}
	}
}

// BenchmarkLoadPolicy is reading a policy and its trust material: keys,
// a Notation trust policy and store, compiling the CEL condition.
func BenchmarkLoadPolicy(b *testing.B) {
	f := newFixture(b, atLayout)
	text := policyOf(f.scope(b), 2, "release corp", sprintf(slsaRule, "release"))
	f.policy(b, text)
	b.ResetTimer()
	for b.Loop() {
		f.policy(b, text)
	}
}
