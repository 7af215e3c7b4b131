package verify_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// VSAPolicyDigest is, before any verification, the policy digest the VSA
// of a verification under the same policy states; another statement's (or
// another policy file's) differs.
func TestVSAPolicyDigest(t *testing.T) {
	f := newFixture(t, atDistribution)
	f.cosign(t, "release", sign.FormatBundle)
	p := f.policy(t, policyOf(f.scope(t), 1, "release", ""))
	res, err := f.verify(t, p, verify.Options{}, f.ref)
	if err != nil || res.Verdict != verify.VerdictVerified {
		t.Fatalf("%s %v", res.Verdict, err)
	}
	summary, err := verify.SummaryOf(res, p, "https://wasmgate.dev/serve@v1", "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := verify.VSA(summary)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Predicate struct {
			Policy struct{ Digest map[string]string }
		}
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	want, err := verify.VSAPolicyDigest(p, res.Repository)
	if err != nil || st.Predicate.Policy.Digest["sha256"] != want {
		t.Fatalf("VSAPolicyDigest %s (%v), the VSA states %s", want, err, st.Predicate.Policy.Digest["sha256"])
	}
	other := f.policy(t, policyOf(f.scope(t), 1, "release ci", ""))
	if d, _ := verify.VSAPolicyDigest(other, res.Repository); d == want {
		t.Error("another policy has the same VSA policy digest")
	}
}
