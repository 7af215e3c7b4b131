package verify_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

const typeUnrelated = "application/vnd.example.scan-report"

// unrelated attaches n referrers of a type no verifier reads (scan
// reports, as tools attach them by the hundred) and returns their digests.
func (f *fixture) unrelated(t testing.TB, n int) map[digest.Digest]bool {
	t.Helper()
	out := map[digest.Digest]bool{}
	for i := range n {
		desc, err := referrers.Attach(testkit.Context(t), f.dst, f.subject, typeUnrelated,
			[]referrers.Blob{{MediaType: "application/json", Data: fmt.Appendf(nil, `{"report":%d}`, i)}}, referrers.AttachOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[desc.Digest] = true
	}
	return out
}

// fetchedAny counts the requests for any of digests.
func (f *fixture) fetchedAny(digests map[digest.Digest]bool) int {
	n := 0
	for _, r := range f.reg.Faults.Requests() {
		for d := range digests {
			if strings.HasSuffix(r.Path, "/"+d.String()) {
				n++
			}
		}
	}
	return n
}

// The gate reads only the referrers its verifiers need: among unrelated
// referrers, a registry whose listing names each artifact type
// (distribution's fallback index) is not asked for any of them; one that
// lists the config type instead (go-containerregistry's) has each fetched
// and judged by its manifest. The verdict is the same, and the result says
// what was skipped.
func TestVerifySkipsUnrelatedReferrers(t *testing.T) {
	const n = 30
	for _, at := range []where{atDistribution, atGGCR} {
		t.Run(string(at), func(t *testing.T) {
			f := newFixture(t, at)
			f.cosign(t, "release", sign.FormatBundle)
			f.notation(t)
			clutter := f.unrelated(t, n)
			p := f.policy(t, policyOf(f.scope(t), 2, "release corp", ""))
			f.reg.Faults.ResetLog()
			res, err := f.verify(t, p, verify.Options{}, f.ref)
			if err != nil || res.Verdict != verify.VerdictVerified {
				t.Fatalf("verdict %s, err %v: %v", res.Verdict, err, res.Failed())
			}
			sk := res.SkippedReferrers
			if sk == nil || sk.Count != n || sk.ArtifactTypes[typeUnrelated] != n {
				t.Fatalf("skipped %+v, want %d of %s", sk, n, typeUnrelated)
			}
			fetched := f.fetchedAny(clutter)
			switch at {
			case atDistribution:
				if fetched != 0 || sk.Unfetched != n {
					t.Errorf("%d requests for unrelated referrers (unfetched %d): the fallback index names their type", fetched, sk.Unfetched)
				}
			case atGGCR:
				if fetched != n || sk.Unfetched != 0 {
					t.Errorf("%d requests for unrelated referrers (unfetched %d): ggcr lists no artifactType, each is judged by its manifest", fetched, sk.Unfetched)
				}
			}
		})
	}
}

// A cosign signature listed under a wrong artifact type is skipped, never
// read: the signature is missing, the verdict denied, and the result
// counts it as skipped. A Notation signature listed with no artifact type
// at all is read and found.
func TestVerifyListedTypeIsFailClosed(t *testing.T) {
	f := newFixture(t, atDistribution)
	f.cosign(t, "release", sign.FormatBundle)
	f.notation(t)
	f.reg.EditReferrersIndex(t, "wasm/app", f.subject.Digest, func(descs []ocispec.Descriptor) []ocispec.Descriptor {
		for i := range descs {
			switch descs[i].ArtifactType {
			case evidence.ArtifactTypeNotation:
				descs[i].ArtifactType = ""
			default:
				descs[i].ArtifactType = typeUnrelated
			}
		}
		return descs
	})

	res, err := f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "release", "")), verify.Options{}, f.ref)
	if err != nil || res.Verdict != verify.VerdictDenied {
		t.Fatalf("cosign under a wrong type: verdict %s, err %v", res.Verdict, err)
	}
	// The mislisted bundle is skipped unfetched; the Notation signature,
	// listed with no type, had to be read to be judged (not a kind this
	// policy reads).
	if sk := res.SkippedReferrers; sk == nil || sk.Count != 2 || sk.Unfetched != 1 ||
		sk.ArtifactTypes[typeUnrelated] != 1 || sk.ArtifactTypes[evidence.ArtifactTypeNotation] != 1 {
		t.Errorf("skipped %+v, want the mislisted bundle unfetched and the Notation signature fetched", sk)
	}

	res, err = f.verify(t, f.policy(t, policyOf(f.scope(t), 1, "corp", "")), verify.Options{}, f.ref)
	if err != nil || res.Verdict != verify.VerdictVerified {
		t.Fatalf("Notation listed without a type: verdict %s, err %v: %v", res.Verdict, err, res.Failed())
	}
}
