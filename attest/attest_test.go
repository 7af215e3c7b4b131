package attest_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/attest"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/evidence/cosign"
	"github.com/wasmgate/wasmgate/internal/testrig/peers"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

// site is repo on reg opened as wasmgate opens it.
type site struct{ *testkit.Site }

func open(t testing.TB, reg *testregistry.Registry, repo string) *site {
	t.Helper()
	return &site{testkit.Open(t, reg, reg.Ref(repo, peers.SubjectTag), remote.Options{})}
}

func (s *site) check(t testing.TB, subject ocispec.Descriptor, auth cosign.Authority, req attest.Requirement) *attest.Report {
	t.Helper()
	rep, err := attest.Check(testkit.Context(t), s.Target, subject, s.Discover, auth, req, attest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// pushOther pushes testdata/wasm/component.wasm to repo: a second artifact.
func pushOther(t testing.TB, s *site) ocispec.Descriptor {
	t.Helper()
	return testkit.Push(t, s.Target, filepath.Join("..", "testdata", "wasm", "component.wasm"), nil, "other").Manifest
}

// writePredicate writes a SLSA provenance v1 predicate as a GitHub
// Actions builder would, with runDetails.metadata only when finishedOn is
// set.
func writePredicate(t testing.TB, finishedOn string) string {
	t.Helper()
	run := map[string]any{
		"builder": map[string]any{"id": "https://github.com/acme/builder@v1"},
	}
	if finishedOn != "" {
		run["metadata"] = map[string]any{"invocationId": "https://github.com/acme/tiny/actions/runs/1/attempts/1", "startedOn": finishedOn, "finishedOn": finishedOn}
	}
	p := map[string]any{
		"buildDefinition": map[string]any{
			"buildType": "https://actions.github.io/buildtypes/workflow/v1",
			"externalParameters": map[string]any{
				"workflow": map[string]any{
					"ref":        "refs/tags/v1.0.0",
					"repository": "https://github.com/acme/tiny",
					"path":       ".github/workflows/release.yml",
				},
			},
			"internalParameters": map[string]any{"github": map[string]any{"event_name": "push", "repository_id": "1", "repository_owner_id": "2"}},
			"resolvedDependencies": []any{map[string]any{
				"uri":    "git+https://github.com/acme/tiny@refs/tags/v1.0.0",
				"digest": map[string]any{"gitCommit": "6b1f8f5cf4b7a0c8a3e3c2b1d0e9f8a7b6c5d4e3"},
			}},
		},
		"runDetails": run,
	}
	raw, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return testkit.TempFile(t, "provenance.json", raw)
}

var passing = []string{
	`predicate.runDetails.builder.id == "https://github.com/acme/builder@v1"`,
	`predicate.buildDefinition.externalParameters.workflow.repository.startsWith("https://github.com/acme/")`,
}

func conditions(t testing.TB, srcs ...string) []*attest.Condition {
	t.Helper()
	var out []*attest.Condition
	for _, s := range srcs {
		c, err := attest.Compile(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, c)
	}
	return out
}

// cosign v3 attests SLSA provenance over a wasm artifact in both formats
// on both registry kinds; wasmgate verifies it with the key and checks
// CEL conditions on it.
func TestCosignAttestations(t *testing.T) {
	peers.Binary(t, "cosign")
	_, key, pub := peers.CosignKeys(t)
	_, _, otherPub := peers.CosignKeys(t)
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pub))}}
	predicate := writePredicate(t, "")
	for _, kind := range testregistry.Kinds() {
		for _, format := range []string{peers.CosignBundle, peers.CosignLegacy} {
			t.Run(string(kind)+"/"+format, func(t *testing.T) {
				t.Parallel()
				reg := testregistry.New(t, kind)
				subject := peers.PushSubject(t, reg, "wasm/tiny")
				// The short name in one format, the URI in the other.
				typ := "slsaprovenance1"
				if format == peers.CosignLegacy {
					typ = evidence.PredicateTypeSLSAv1
				}
				peers.CosignAttest(t, key, reg.Ref("wasm/tiny", subject.Digest.String()), predicate, typ, format)
				s := open(t, reg, "wasm/tiny")
				req := func(conds ...string) attest.Requirement {
					return attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, Conditions: conditions(t, conds...)}
				}

				t.Run("passing conditions", func(t *testing.T) {
					rep := s.check(t, subject, auth, req(passing...))
					if !rep.Verified || len(rep.Results) != 1 {
						t.Fatalf("report: %+v", rep)
					}
					r := rep.Results[0]
					if !r.Verified || string(r.Format) != format || r.KeyID != cosign.KeyID(testkit.PublicKey(t, pub)) || r.PredicateType != evidence.PredicateTypeSLSAv1 {
						t.Fatalf("result: %+v", r)
					}
					// The short name selects the same attestations.
					if rep := s.check(t, subject, auth, attest.Requirement{PredicateType: "slsaprovenance1"}); !rep.Verified {
						t.Fatalf("short name: %+v", rep)
					}
				})
				t.Run("false condition", func(t *testing.T) {
					rep := s.check(t, subject, auth, req(passing[0], `predicate.runDetails.builder.id == "https://github.com/evil/builder@v1"`))
					if rep.Verified || !errors.Is(rep.Err, attest.ErrConditionFalse) || !errors.Is(rep.Results[0].Err, attest.ErrConditionFalse) {
						t.Fatalf("report: %+v", rep)
					}
				})
				t.Run("runaway condition", func(t *testing.T) {
					rep := s.check(t, subject, auth, req(runaway))
					if rep.Verified || !errors.Is(rep.Err, attest.ErrConditionCost) {
						t.Fatalf("report: %+v", rep)
					}
				})
				t.Run("wrong predicate type", func(t *testing.T) {
					rep := s.check(t, subject, auth, attest.Requirement{PredicateType: "https://spdx.dev/Document"})
					if rep.Verified || !errors.Is(rep.Err, attest.ErrNoAttestation) || rep.Skipped != 1 || len(rep.Results) != 0 {
						t.Fatalf("report: %+v", rep)
					}
				})
				t.Run("another key", func(t *testing.T) {
					rep := s.check(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, otherPub))}}, req(passing...))
					if rep.Verified || len(rep.Results) != 1 || !errors.Is(rep.Results[0].Err, cosign.ErrSignatureInvalid) || !errors.Is(rep.Err, attest.ErrSignature) {
						t.Fatalf("report: %+v", rep)
					}
				})
				t.Run("maxAge without a time", func(t *testing.T) {
					r := req(passing...)
					r.MaxAge = time.Hour
					rep := s.check(t, subject, auth, r)
					if rep.Verified || !errors.Is(rep.Err, attest.ErrNoTime) {
						t.Fatalf("report: %+v", rep)
					}
				})
				t.Run("min count", func(t *testing.T) {
					r := req(passing...)
					r.MinCount = 2
					rep := s.check(t, subject, auth, r)
					if rep.Verified || !errors.Is(rep.Err, attest.ErrTooFew) {
						t.Fatalf("report: %+v", rep)
					}
				})
			})
		}
	}
}

// A key-signed attestation whose predicate states when the build ran is
// aged by that claim.
func TestMaxAgeFromPredicate(t *testing.T) {
	peers.Binary(t, "cosign")
	_, key, pub := peers.CosignKeys(t)
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pub))}}
	reg := testregistry.GGCR(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	peers.CosignAttest(t, key, reg.Ref("wasm/tiny", subject.Digest.String()), writePredicate(t, "2025-01-02T03:04:05Z"), "slsaprovenance1", peers.CosignBundle)
	s := open(t, reg, "wasm/tiny")
	built := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		want error
	}{
		{built.Add(30 * time.Minute), nil},
		{built.Add(2 * time.Hour), attest.ErrTooOld},
		// A build that claims to finish in the future proves no freshness.
		{built.Add(-time.Hour), attest.ErrNoTime},
	} {
		rep, err := attest.Check(testkit.Context(t), s.Target, subject, s.Discover, auth,
			attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, MaxAge: time.Hour},
			attest.Options{Now: func() time.Time { return tc.now }})
		if err != nil {
			t.Fatal(err)
		}
		if tc.want == nil && (!rep.Verified || rep.Results[0].TimeSource != "predicate" || !rep.Results[0].Time.Equal(built)) {
			t.Fatalf("at %s: %+v", tc.now, rep)
		}
		if tc.want != nil && !errors.Is(rep.Err, tc.want) {
			t.Fatalf("at %s: %+v", tc.now, rep)
		}
	}
}

// Attestations copied from another artifact are refused as such.
func TestReplayedAttestations(t *testing.T) {
	peers.Binary(t, "cosign")
	_, key, pub := peers.CosignKeys(t)
	auth := cosign.Authority{Keys: []cosign.Key{cosign.NewKey(testkit.PublicKey(t, pub))}}
	req := attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1, Conditions: conditions(t, passing...)}
	predicate := writePredicate(t, "")
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			reg := testregistry.New(t, kind)
			a := peers.PushSubject(t, reg, "wasm/a")
			s := open(t, reg, "wasm/a")
			b := pushOther(t, s)
			peers.CosignAttest(t, key, reg.Ref("wasm/a", b.Digest.String()), predicate, "slsaprovenance1", peers.CosignLegacy)
			peers.CosignAttest(t, key, reg.Ref("wasm/a", b.Digest.String()), predicate, "slsaprovenance1", peers.CosignBundle)
			// b's own attestations verify.
			if rep := s.check(t, b, auth, req); !rep.Verified || len(rep.Results) != 2 {
				t.Fatalf("b: %+v", rep)
			}

			// b's .att under a's tag.
			att, err := s.Target.Resolve(testkit.Context(t), referrers.TagSchema(b.Digest)+".att")
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Target.Tag(testkit.Context(t), att, referrers.TagSchema(a.Digest)+".att"); err != nil {
				t.Fatal(err)
			}
			// b's bundle attached to a.
			found, err := referrers.Discover(testkit.Context(t), s.Target, b, s.Discover)
			if err != nil {
				t.Fatal(err)
			}
			var layer ocispec.Descriptor
			for _, r := range found.Referrers {
				if r.Kind == referrers.KindSigstoreBundle {
					layer = r.Manifest.Layers[0]
				}
			}
			raw, err := access.FetchVerified(testkit.Context(t), s.Target, layer, 1<<20, "bundle")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := referrers.Attach(testkit.Context(t), s.Target, a, evidence.ArtifactTypeSigstoreBundle,
				[]referrers.Blob{{MediaType: layer.MediaType, Data: raw}},
				referrers.AttachOptions{Annotations: map[string]string{evidence.AnnotationBundlePredicateType: evidence.PredicateTypeSLSAv1}}); err != nil {
				t.Fatal(err)
			}

			rep := s.check(t, a, auth, req)
			if rep.Verified || len(rep.Results) != 2 {
				t.Fatalf("a: %+v", rep)
			}
			for _, r := range rep.Results {
				if r.Verified || !errors.Is(r.Err, attest.ErrSubjectMismatch) {
					t.Errorf("%s: %+v", r.Format, r)
				}
			}
		})
	}
}

// A DSSE envelope that is not an in-toto statement is refused before its
// signature is looked at.
func TestPayloadType(t *testing.T) {
	reg := testregistry.Distribution(t)
	subject := peers.PushSubject(t, reg, "wasm/tiny")
	s := open(t, reg, "wasm/tiny")
	env := []byte(`{"payloadType":"text/plain","payload":"aGVsbG8=","signatures":[{"keyid":"","sig":"MEUCIQ=="}]}`)
	layer := content.NewDescriptorFromBytes(evidence.MediaTypeDSSE, env)
	layer.Annotations = map[string]string{"predicateType": evidence.PredicateTypeSLSAv1, evidence.AnnotationCosignSignature: ""}
	if err := s.Target.Push(testkit.Context(t), layer, bytes.NewReader(env)); err != nil {
		t.Fatal(err)
	}
	// cosign's legacy shape: an image manifest with the image config type.
	m, err := oras.PackManifest(testkit.Context(t), s.Target, oras.PackManifestVersion1_0, ocispec.MediaTypeImageConfig, oras.PackManifestOptions{
		Layers: []ocispec.Descriptor{layer},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Target.Tag(testkit.Context(t), m, referrers.TagSchema(subject.Digest)+".att"); err != nil {
		t.Fatal(err)
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rep := s.check(t, subject, cosign.Authority{Keys: []cosign.Key{cosign.NewKey(k.Public())}}, attest.Requirement{PredicateType: evidence.PredicateTypeSLSAv1})
	if rep.Verified || len(rep.Results) != 1 || !errors.Is(rep.Results[0].Err, attest.ErrPayloadType) {
		t.Fatalf("report: %+v", rep)
	}
}
