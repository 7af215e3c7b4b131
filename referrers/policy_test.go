package referrers_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/permissions"
	"github.com/wasmgate/wasmgate/referrers"
)

// AttachPolicy: a policy that does not parse sends nothing; one that does
// is a referrer of KindPermissionPolicy with the policy bytes as its one
// layer, kept by discovery when asked for and skipped otherwise.
func TestAttachPolicy(t *testing.T) {
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			ctx := testkit.Context(t)
			s := openSite(t, testregistry.New(t, kind), "wasm/tiny")
			subject := pushSubject(t, s.target)
			for _, bad := range [][]byte{[]byte("version: \"1.0\"\npermissions: {storage: 1}\n"), []byte("version: v1\npolicies: []\n")} {
				if _, err := referrers.AttachPolicy(ctx, s.target, subject, bad, referrers.AttachOptions{}); !errors.Is(err, permissions.ErrInvalid) {
					t.Errorf("AttachPolicy(%q): %v, want permissions.ErrInvalid", bad, err)
				}
			}
			res, err := referrers.Discover(ctx, s.target, subject, s.opts())
			if err != nil || len(res.Referrers) != 0 {
				t.Fatalf("after refused attaches: %v %v", digests(res.Referrers), err)
			}

			pol, err := referrers.AttachPolicy(ctx, s.target, subject, sample.PolicyYAML(), referrers.AttachOptions{})
			if err != nil {
				t.Fatal(err)
			}
			attach(t, s.target, subject, evidence.ArtifactTypeInTotoLayout, "application/octet-stream", `{"layout":1}`, nil)

			opts := s.opts()
			opts.Kinds = []referrers.Kind{referrers.KindPermissionPolicy}
			res, err = referrers.Discover(ctx, s.target, subject, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Referrers) != 1 || res.Referrers[0].Digest != pol.Digest || res.Referrers[0].Kind != referrers.KindPermissionPolicy || res.Skipped != 1 {
				t.Fatalf("referrers %v, skipped %d: want the policy alone", digests(res.Referrers), res.Skipped)
			}
			m := res.Referrers[0].Manifest
			if m.ArtifactType != evidence.ArtifactTypeWasmPolicy || len(m.Layers) != 1 || m.Layers[0].MediaType != evidence.ArtifactTypeWasmPolicy {
				t.Errorf("manifest %+v", m)
			}
			raw, err := s.target.Fetch(ctx, m.Layers[0])
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			b.ReadFrom(raw)
			raw.Close()
			if !bytes.Equal(b.Bytes(), sample.PolicyYAML()) {
				t.Errorf("layer %q, want the policy as given", b.Bytes())
			}

			opts.Kinds = []referrers.Kind{referrers.KindInTotoLayout}
			if res, err = referrers.Discover(ctx, s.target, subject, opts); err != nil || len(res.Referrers) != 1 || res.Referrers[0].Kind != referrers.KindInTotoLayout || res.Skipped != 1 {
				t.Errorf("not asked for: %v skipped %d %v", digests(res.Referrers), res.Skipped, err)
			}
		})
	}
}
