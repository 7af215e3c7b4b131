package cosign_test

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func loadKey(t testing.TB, path string) crypto.PublicKey {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := cosign.PEMPublicKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// site opens repo on reg as wasmgate does and discovers subject's referrers.
type site struct {
	target oras.Target
	opts   referrers.Options
}

func open(t testing.TB, reg *testregistry.Registry, repo string) *site {
	t.Helper()
	c, err := remote.New(remote.Options{PlainHTTP: []string{reg.Host}, Credentials: credentials.NewMemoryStore()})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := artifact.ParseReference(reg.Ref(repo, "v1"))
	if err != nil {
		t.Fatal(err)
	}
	o := &access.Opener{Client: c}
	dst, err := o.Destination(ref)
	if err != nil {
		t.Fatal(err)
	}
	return &site{target: dst, opts: referrers.Options{API: o.ReferrersAPI(ref)}}
}

func (s *site) verify(t testing.TB, subject ocispec.Descriptor, auth cosign.Authority, opts cosign.Options) []cosign.Result {
	t.Helper()
	found, err := referrers.Discover(ctxT(t), s.target, subject, s.opts)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := cosign.VerifyReferrers(ctxT(t), s.target, subject, found.Referrers, auth, opts)
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

				rs := s.verify(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(loadKey(t, pub))}}, cosign.Options{})
				if len(rs) != 1 || !rs[0].Verified || rs[0].KeyID != cosign.KeyID(loadKey(t, pub)) || string(rs[0].Format) != format {
					t.Fatalf("results: %+v", rs)
				}
				rs = s.verify(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(loadKey(t, otherPub))}}, cosign.Options{})
				if len(rs) != 1 || rs[0].Verified || !errors.Is(rs[0].Err, cosign.ErrSignatureInvalid) {
					t.Fatalf("another key: %+v", rs)
				}
				// --format limits the check to one format.
				other := cosign.FormatLegacy
				if format == peers.CosignLegacy {
					other = cosign.FormatBundle
				}
				if rs := s.verify(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(loadKey(t, pub))}}, cosign.Options{Format: other}); len(rs) != 0 {
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
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(loadKey(t, pub))}}
	reg := testregistry.Distribution(t)
	a := peers.PushSubject(t, reg, "wasm/a")
	b := pushOther(t, reg, "wasm/a")
	peers.CosignSign(t, key, reg.Ref("wasm/a", b.Digest.String()), peers.CosignLegacy)
	peers.CosignSign(t, key, reg.Ref("wasm/a", b.Digest.String()), peers.CosignBundle)
	s := open(t, reg, "wasm/a")

	t.Run("legacy .sig of another artifact under this one's tag", func(t *testing.T) {
		sig, err := s.target.Resolve(ctxT(t), referrers.TagSchema(b.Digest)+".sig")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.target.Tag(ctxT(t), sig, referrers.TagSchema(a.Digest)+".sig"); err != nil {
			t.Fatal(err)
		}
		rs := s.verify(t, a, auth, cosign.Options{Format: cosign.FormatLegacy})
		if len(rs) != 1 || rs[0].Verified || !errors.Is(rs[0].Err, cosign.ErrSubjectMismatch) {
			t.Fatalf("got %+v", rs)
		}
	})
	t.Run("bundle of another artifact rewrapped with this subject", func(t *testing.T) {
		found, err := referrers.Discover(ctxT(t), s.target, b, s.opts)
		if err != nil {
			t.Fatal(err)
		}
		var bundleLayer ocispec.Descriptor
		for _, r := range found.Referrers {
			if r.Kind == referrers.KindSigstoreBundle {
				bundleLayer = r.Manifest.Layers[0]
			}
		}
		raw, err := content(t, s.target, bundleLayer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := referrers.Attach(ctxT(t), s.target, a, evidence.ArtifactTypeSigstoreBundle,
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
	return access.FetchVerified(ctxT(t), src, d, 1<<20, "blob")
}

// pushOther pushes the component as a second artifact in repo.
func pushOther(t testing.TB, reg *testregistry.Registry, repo string) ocispec.Descriptor {
	t.Helper()
	s := open(t, reg, repo)
	pkg, err := artifact.Pack(filepath.Join("..", "..", "testdata", "wasm", "component.wasm"), nil, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Push(ctxT(t), s.target, pkg, "other", access.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	return pkg.Manifest
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
