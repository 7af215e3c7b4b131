package referrers_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
)

// A referrer manifest, or a fallback index, that breaks the image-spec is
// rejected with the rule it breaks, never returned; the same referrer
// with the rule kept is.
func TestDiscoverRejectsInvalidDocuments(t *testing.T) {
	for _, kind := range testregistry.Kinds() {
		t.Run("referrer manifest/"+string(kind), func(t *testing.T) {
			s := openSite(t, testregistry.New(t, kind), "wasm/tiny")
			a := pushSubject(t, s.target)
			good := pushReferrer(t, s.target, a, "application/vnd.example.sig")
			bad := pushReferrer(t, s.target, a, "sig") // not a media type
			res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
			if err != nil {
				t.Fatal(err)
			}
			if got := digests(res.Referrers); len(got) != 1 || got[0] != good.Digest {
				t.Errorf("referrers %v, want only %s", got, good.Digest)
			}
			rejectedFor(t, res, bad.Digest, artifact.ErrInvalidDocument)
		})
	}
	t.Run("fallback index with an invalid entry", func(t *testing.T) {
		s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
		a := pushSubject(t, s.target)
		sig := attach(t, s.target, a, typeSig, "application/octet-stream", "sig", nil)
		invalid := ocispec.Descriptor{MediaType: "manifest", Digest: digest.FromString("x"), Size: 1}
		body := rawIndex(t, sig, invalid)
		s.reg.Faults.Inject("", "/manifests/("+referrers.TagSchema(a.Digest)+"|"+digest.FromBytes(body).String()+")$",
			testregistry.Respond(serve(ocispec.MediaTypeImageIndex, body)))
		res, err := referrers.Discover(testkit.Context(t), s.target, a, referrers.Options{Mode: referrers.ModeTag})
		if err != nil {
			t.Fatal(err)
		}
		rejectedFor(t, res, digest.FromBytes(body), artifact.ErrInvalidDocument)
		if len(res.Referrers) != 0 {
			t.Errorf("an invalid index listed %v", digests(res.Referrers))
		}
	})
}

// pushReferrer pushes a manifest about subject with one layer whose
// artifactType is at, as any client may.
func pushReferrer(t *testing.T, dst oras.Target, subject ocispec.Descriptor, at string) ocispec.Descriptor {
	t.Helper()
	ctx := testkit.Context(t)
	layer, err := oras.PushBytes(ctx, dst, "application/octet-stream", []byte("evidence "+at))
	if err != nil {
		t.Fatal(err)
	}
	layer.ArtifactType = at
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: "application/vnd.example.sig",
		Config: ocispec.DescriptorEmptyJSON, Layers: []ocispec.Descriptor{layer}, Subject: &subject}
	m.SchemaVersion = 2
	if _, err := oras.PushBytes(ctx, dst, ocispec.MediaTypeEmptyJSON, []byte("{}")); err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PushBytes(ctx, dst, ocispec.MediaTypeImageManifest, raw)
	if err != nil {
		t.Fatalf("push referrer: %v", err)
	}
	return desc
}

func rejectedFor(t *testing.T, res *referrers.Result, d digest.Digest, want error) {
	t.Helper()
	for _, r := range res.Rejected {
		if r.Digest == d && errors.Is(r.Reason, want) {
			return
		}
	}
	t.Errorf("%s not rejected for %v: %+v", d, want, res.Rejected)
}
