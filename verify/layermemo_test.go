package verify_test

import (
	"bytes"
	"testing"

	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/remote"
	"github.com/wasmgate/wasmgate/verify"
)

// Verifications that share a LayerMemo fetch and hash a layer once per
// digest, even from two repositories; without one, each fetches it. The
// bytes handed over are the module's either way.
func TestLayerMemoSharesLayersAcrossRepositories(t *testing.T) {
	f := newFixture(t, atDistribution)
	copySite := testkit.Open(t, f.reg, f.reg.Ref("wasm/copy", "v1"), remote.Options{})
	pkg := testkit.Push(t, copySite.Target, testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), sample.PolicyYAML(), "v1")
	p := f.policy(t, "version: v1\npolicies:\n  - name: open\n    scopes: [\"*\"]\n    allowUnsigned: true\n")
	wasmGETs := func() int { return f.reg.Faults.Count("GET", "/blobs/"+pkg.Wasm.Digest.String()) }

	for _, tc := range []struct {
		memo *verify.LayerMemo
		want int
	}{{nil, 2}, {verify.NewLayerMemo(0), 1}} {
		f.reg.Faults.ResetLog()
		v := mustVerifier(t, p, f.opener, verify.Options{Layers: tc.memo})
		for _, ref := range []string{f.ref, f.reg.Ref("wasm/copy", "v1")} {
			a, res, err := v.Fetch(testkit.Context(t), mustRef(t, ref))
			if err != nil {
				t.Fatalf("%s: %v (%v)", ref, err, res.Failed())
			}
			if !bytes.Equal(a.Wasm(), sample.HelloWasm()) {
				t.Fatalf("%s: the module handed over is not the one pushed", ref)
			}
		}
		if n := wasmGETs(); n != tc.want {
			t.Errorf("memo %v: the shared wasm layer fetched %d times, want %d", tc.memo != nil, n, tc.want)
		}
	}
}
