package verify_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/resultcache"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// A verified verdict kept in the result cache answers the next
// verification of the same digest under the same policy without a
// referrer or layer request; the tag is still resolved. A denial is not
// kept, a moved tag or another policy misses, and Fetch still fetches and
// checks the layers it hands over.
func TestResultCache(t *testing.T) {
	f := newFixture(t, atDistribution)
	f.cosign(t, "release", sign.FormatBundle)
	cache, err := resultcache.Open(resultcache.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	opts := verify.Options{Results: cache, ResultTTL: time.Hour}
	p := f.policy(t, policyOf(f.scope(t), 1, "release", ""))

	first, err := f.verify(t, p, opts, f.ref)
	if err != nil || first.Verdict != verify.VerdictVerified || first.Cached != nil {
		t.Fatalf("first: %s, cached %v, err %v", first.Verdict, first.Cached, err)
	}
	f.reg.Faults.ResetLog()
	second, err := f.verify(t, p, opts, f.ref)
	if err != nil || second.Verdict != verify.VerdictVerified || second.Cached == nil {
		t.Fatalf("second: %s, cached %v, err %v", second.Verdict, second.Cached, err)
	}
	if second.Signatures == nil || second.Signatures.Satisfied != 1 || second.Digest != first.Digest {
		t.Errorf("the cached result lost its report: %+v", second.Signatures)
	}
	if n := f.reg.Faults.Count("", "/blobs/|/referrers/|sha256-"); n != 0 {
		t.Errorf("%d blob or referrer requests on a hit", n)
	}
	if n := f.reg.Faults.Count("", "/manifests/v1$"); n == 0 {
		t.Error("the tag was not resolved on a hit")
	}

	// Fetch on a hit still fetches and checks the layers it returns.
	f.reg.Faults.ResetLog()
	a, res, err := mustVerifier(t, p, f.opener, opts).Fetch(testkit.Context(t), mustRef(t, f.ref))
	if err != nil || res.Cached == nil || len(a.Wasm()) == 0 {
		t.Fatalf("fetch on a hit: cached %v, err %v", res.Cached, err)
	}
	if n := f.reg.Faults.Count("GET", "/blobs/"); n == 0 {
		t.Error("Fetch handed over layers it did not fetch")
	}

	// Another policy (another digest) misses.
	other := f.policy(t, policyOf(f.scope(t), 1, "release", "    requireDigest: false\n"))
	if other.Digest() == p.Digest() {
		t.Fatal("the two policies have one digest")
	}
	if res, _ := f.verify(t, other, opts, f.ref); res.Cached != nil {
		t.Error("another policy was served the cached verdict")
	}

	// A denial is not kept: once signed by ci, ci's policy verifies.
	ci := f.policy(t, policyOf(f.scope(t), 1, "ci", ""))
	if res, _ := f.verify(t, ci, opts, f.ref); res.Verdict != verify.VerdictDenied {
		t.Fatalf("ci: %s", res.Verdict)
	}
	f.cosign(t, "ci", sign.FormatBundle)
	if res, _ := f.verify(t, ci, opts, f.ref); res.Verdict != verify.VerdictVerified || res.Cached != nil {
		t.Fatalf("ci after signing: %s, cached %v", res.Verdict, res.Cached)
	}

	// The tag moved to another artifact: its own digest, a miss.
	f.subject = testkit.Push(t, f.dst, filepath.Join("..", "testdata", "wasm", "tiny.wasm"), nil, "v1").Manifest
	if res, _ := f.verify(t, p, opts, f.ref); res.Cached != nil || res.Digest != f.subject.Digest || res.Verdict != verify.VerdictDenied {
		t.Errorf("moved tag: %s %s, cached %v", res.Digest, res.Verdict, res.Cached)
	}
}
