package cosign_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

// site is repo on reg opened as wasmgate opens it, where subject's
// referrers are discovered and verified.
type site struct{ *testkit.Site }

func open(t testing.TB, reg *testregistry.Registry, repo string) *site {
	t.Helper()
	return &site{testkit.Open(t, reg, reg.Ref(repo, "v1"), remote.Options{})}
}

func (s *site) verify(t testing.TB, subject ocispec.Descriptor, auth cosign.Authority, opts cosign.Options) []cosign.Result {
	t.Helper()
	found, err := referrers.Discover(testkit.Context(t), s.Target, subject, s.Discover)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := cosign.VerifyReferrers(testkit.Context(t), s.Target, subject, found.Referrers, auth, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// cosign v3 signs a wasm artifact in both formats on both registry kinds;
// wasmgate verifies each, and refuses another key.
func TestVerifyCosignSignatures(t *testing.T) {
	peers.Binary(t, "cosign")
	_, key, pub := peers.CosignKeys(t)
	_, _, otherPub := peers.CosignKeys(t)
	for _, kind := range testregistry.Kinds() {
		for _, format := range []string{peers.CosignBundle, peers.CosignLegacy} {
			t.Run(string(kind)+"/"+format, func(t *testing.T) {
				reg := testregistry.New(t, kind)
				subject := peers.PushSubject(t, reg, "wasm/tiny")
				peers.CosignSign(t, key, reg.Ref("wasm/tiny", subject.Digest.String()), format)
				s := open(t, reg, "wasm/tiny")

				rs := s.verify(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pub))}}, cosign.Options{})
				if len(rs) != 1 || !rs[0].Verified || rs[0].KeyID != cosign.KeyID(testkit.PublicKey(t, pub)) || string(rs[0].Format) != format {
					t.Fatalf("results: %+v", rs)
				}
				rs = s.verify(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, otherPub))}}, cosign.Options{})
				if len(rs) != 1 || rs[0].Verified || !errors.Is(rs[0].Err, cosign.ErrSignatureInvalid) {
					t.Fatalf("another key: %+v", rs)
				}
				// --format limits the check to one format.
				other := cosign.FormatLegacy
				if format == peers.CosignLegacy {
					other = cosign.FormatBundle
				}
				if rs := s.verify(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pub))}}, cosign.Options{Format: other}); len(rs) != 0 {
					t.Errorf("format %s checked %+v", other, rs)
				}
			})
		}
	}
}

// Signatures copied from another artifact are refused as such.
func TestVerifyRefusesReplayedSignatures(t *testing.T) {
	peers.Binary(t, "cosign")
	_, key, pub := peers.CosignKeys(t)
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pub))}}
	reg := testregistry.Distribution(t)
	a := peers.PushSubject(t, reg, "wasm/a")
	b := pushOther(t, reg, "wasm/a")
	peers.CosignSign(t, key, reg.Ref("wasm/a", b.Digest.String()), peers.CosignLegacy)
	peers.CosignSign(t, key, reg.Ref("wasm/a", b.Digest.String()), peers.CosignBundle)
	s := open(t, reg, "wasm/a")

	t.Run("legacy .sig of another artifact under this one's tag", func(t *testing.T) {
		sig, err := s.Target.Resolve(testkit.Context(t), referrers.TagSchema(b.Digest)+".sig")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Target.Tag(testkit.Context(t), sig, referrers.TagSchema(a.Digest)+".sig"); err != nil {
			t.Fatal(err)
		}
		rs := s.verify(t, a, auth, cosign.Options{Format: cosign.FormatLegacy})
		if len(rs) != 1 || rs[0].Verified || !errors.Is(rs[0].Err, cosign.ErrSubjectMismatch) {
			t.Fatalf("got %+v", rs)
		}
	})
	t.Run("bundle of another artifact rewrapped with this subject", func(t *testing.T) {
		found, err := referrers.Discover(testkit.Context(t), s.Target, b, s.Discover)
		if err != nil {
			t.Fatal(err)
		}
		var bundleLayer ocispec.Descriptor
		for _, r := range found.Referrers {
			if r.Kind == referrers.KindSigstoreBundle {
				bundleLayer = r.Manifest.Layers[0]
			}
		}
		raw, err := content(t, s.Target, bundleLayer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := referrers.Attach(testkit.Context(t), s.Target, a, evidence.ArtifactTypeSigstoreBundle,
			[]referrers.Blob{{MediaType: bundleLayer.MediaType, Data: raw}},
			referrers.AttachOptions{Annotations: map[string]string{evidence.AnnotationBundlePredicateType: evidence.PredicateTypeCosignSign}}); err != nil {
			t.Fatal(err)
		}
		rs := s.verify(t, a, auth, cosign.Options{Format: cosign.FormatBundle})
		if len(rs) != 1 || rs[0].Verified || !errors.Is(rs[0].Err, cosign.ErrSubjectMismatch) {
			t.Fatalf("got %+v", rs)
		}
	})
}

func content(t testing.TB, src oras.ReadOnlyTarget, d ocispec.Descriptor) ([]byte, error) {
	return access.FetchVerified(testkit.Context(t), src, d, 1<<20, "blob")
}

// pushOther pushes the component as a second artifact in repo.
func pushOther(t testing.TB, reg *testregistry.Registry, repo string) ocispec.Descriptor {
	t.Helper()
	return testkit.Push(t, open(t, reg, repo).Target, filepath.Join("..", "..", "testdata", "wasm", "component.wasm"), nil, "other").Manifest
}

// statement is an in-toto statement over d, as cosign v3 signs.
func statement(d digest.Digest) []byte {
	b, _ := json.Marshal(map[string]any{
		"_type":         "https://in-toto.io/Statement/v1",
		"subject":       []map[string]any{{"digest": map[string]string{"sha256": d.Encoded()}}},
		"predicateType": evidence.PredicateTypeCosignSign,
		"predicate":     map[string]any{},
	})
	return b
}
