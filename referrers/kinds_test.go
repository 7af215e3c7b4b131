package referrers_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
)

const (
	typeBundle    = "application/vnd.dev.sigstore.bundle.v0.3+json"
	typeUnrelated = "application/vnd.example.unrelated"
)

// manifestGETs counts the referrer manifests fetched by digest (resolving
// a tag is a HEAD or a GET by tag, not counted).
func manifestGETs(reg *testregistry.Registry) int {
	return reg.Faults.Count("GET", `/manifests/sha256:`)
}

// An entry listed with an artifact type no wanted kind has is never
// fetched where the listing names its type (distribution's fallback
// index); where the registry lists the config type instead (ggcr), it is
// fetched, judged by its manifest and skipped. Either way the result says
// how many were skipped, and how many without a request.
func TestKindsSkipUnrelatedUnfetched(t *testing.T) {
	const unrelated = 20
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			s := openSite(t, testregistry.New(t, kind), "wasm/tiny")
			subject := pushSubject(t, s.target)
			for i := range unrelated {
				attach(t, s.target, subject, typeUnrelated, "application/octet-stream", fmt.Sprint("report ", i), nil)
			}
			bundle := attach(t, s.target, subject, typeBundle, evidence.MediaTypeSigstoreBundlePrefix+"v0.3+json", `{}`,
				map[string]string{evidence.AnnotationBundlePredicateType: evidence.PredicateTypeCosignSign})
			s.reg.Faults.ResetLog()

			opts := s.opts()
			opts.Kinds = []referrers.Kind{referrers.KindSigstoreBundle}
			res, err := referrers.Discover(testkit.Context(t), s.target, subject, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Referrers) != 1 || res.Referrers[0].Digest != bundle.Digest {
				t.Fatalf("referrers %v, want only the bundle %s", digests(res.Referrers), bundle.Digest)
			}
			if res.Skipped != unrelated {
				t.Errorf("skipped %d, want %d", res.Skipped, unrelated)
			}
			fetched := manifestGETs(s.reg)
			switch kind {
			case testregistry.KindDistribution:
				if res.Unfetched != unrelated || res.SkippedTypes[typeUnrelated] != unrelated {
					t.Errorf("unfetched %d, types %v: the fallback index names each type", res.Unfetched, res.SkippedTypes)
				}
				if fetched != 2 {
					t.Errorf("%d manifests fetched by digest, want 2 (the fallback index and the bundle)", fetched)
				}
			case testregistry.KindGGCR:
				// go-containerregistry lists the config type (the empty
				// JSON) for every entry: each must be read to be judged.
				if res.Unfetched != 0 || fetched != unrelated+1 {
					t.Errorf("unfetched %d, fetched %d: ggcr lists no artifactType, every entry is judged by its manifest", res.Unfetched, fetched)
				}
			}
			// Without Kinds, everything is returned, as before.
			all, err := referrers.Discover(testkit.Context(t), s.target, subject, s.opts())
			if err != nil {
				t.Fatal(err)
			}
			if len(all.Referrers) != unrelated+1 || all.Skipped != 0 {
				t.Errorf("without Kinds: %d referrers, %d skipped", len(all.Referrers), all.Skipped)
			}
		})
	}
}

// A signature listed under a wrong artifact type is skipped unfetched:
// missed, never accepted; one listed with no artifact type at all (as
// Notation's often are) is fetched and found by its manifest.
func TestKindsListedTypeDecides(t *testing.T) {
	s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
	subject := pushSubject(t, s.target)
	bundle := attach(t, s.target, subject, typeBundle, evidence.MediaTypeSigstoreBundlePrefix+"v0.3+json", `{}`, nil)
	sig := attach(t, s.target, subject, evidence.ArtifactTypeNotation, "application/jose+json", `{}`, nil)
	s.reg.EditReferrersIndex(t, "wasm/tiny", subject.Digest, func(descs []ocispec.Descriptor) []ocispec.Descriptor {
		for i := range descs {
			switch descs[i].Digest {
			case bundle.Digest:
				descs[i].ArtifactType = typeUnrelated
			case sig.Digest:
				descs[i].ArtifactType = ""
			}
		}
		return descs
	})
	s.reg.Faults.ResetLog()
	opts := s.opts()
	opts.Kinds = []referrers.Kind{referrers.KindSigstoreBundle, referrers.KindNotation}
	res, err := referrers.Discover(testkit.Context(t), s.target, subject, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Referrers) != 1 || res.Referrers[0].Digest != sig.Digest || res.Referrers[0].Kind != referrers.KindNotation {
		t.Fatalf("referrers %v, want only the Notation signature %s", digests(res.Referrers), sig.Digest)
	}
	if res.Skipped != 1 || res.Unfetched != 1 || res.SkippedTypes[typeUnrelated] != 1 {
		t.Errorf("skipped %d (unfetched %d, %v), want the mislisted bundle skipped unfetched", res.Skipped, res.Unfetched, res.SkippedTypes)
	}
	if n := s.reg.Faults.Count("GET", "/manifests/"+bundle.Digest.String()); n != 0 {
		t.Errorf("the mislisted bundle was fetched %d times", n)
	}
}

// Cosign's legacy tags are asked for only when their kinds are wanted: a
// Notation-only discovery sends no .sig and no .att request, a signature
// discovery no .att request.
func TestKindsAskOnlyForWantedLegacyTags(t *testing.T) {
	s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
	subject := pushSubject(t, s.target)
	for _, tc := range []struct {
		kinds    []referrers.Kind
		sig, att int
	}{
		{nil, 1, 1},
		{[]referrers.Kind{referrers.KindNotation}, 0, 0},
		{[]referrers.Kind{referrers.KindSigstoreBundle, referrers.KindCosignSignature}, 1, 0},
		{[]referrers.Kind{referrers.KindCosignAttestation, referrers.KindInToto}, 0, 1},
	} {
		s.reg.Faults.ResetLog()
		opts := s.opts()
		opts.Kinds = tc.kinds
		if _, err := referrers.Discover(testkit.Context(t), s.target, subject, opts); err != nil {
			t.Fatal(err)
		}
		sig, att := s.reg.Faults.Count("", `\.sig$`), s.reg.Faults.Count("", `\.att$`)
		if sig != tc.sig || att != tc.att {
			t.Errorf("kinds %v: %d .sig and %d .att requests, want %d and %d", tc.kinds, sig, att, tc.sig, tc.att)
		}
	}
}

// A registry that said it has no Referrers API is not asked again by the
// same client: the second discovery goes straight to the fallback index.
func TestNoReferrersAPIRemembered(t *testing.T) {
	s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
	subject := pushSubject(t, s.target)
	sig := attach(t, s.target, subject, typeSig, "application/octet-stream", "sig", nil)
	s.reg.Faults.ResetLog()
	for i := range 3 {
		// A new lister each time, as each verification of a run gets one.
		opts := referrers.Options{API: s.client.ReferrersAPI(s.ref.Registry, 0)}
		res, err := referrers.Discover(testkit.Context(t), s.target, subject, opts)
		if err != nil {
			t.Fatal(err)
		}
		if res.Listing != referrers.PathTag || len(res.Referrers) != 1 || res.Referrers[0].Digest != sig.Digest {
			t.Fatalf("discovery %d: listing %s, referrers %v", i, res.Listing, digests(res.Referrers))
		}
	}
	if n := s.reg.Faults.Count("GET", "/referrers/"); n != 1 {
		t.Errorf("%d Referrers API requests for 3 discoveries, want 1", n)
	}
	// Mode api still fails, naming the reason.
	opts := s.opts()
	opts.Mode = referrers.ModeAPI
	if _, err := referrers.Discover(testkit.Context(t), s.target, subject, opts); err == nil {
		t.Fatal("mode api on a registry without the API succeeded")
	}
}

// The listings of one discovery are asked at the same time: the .sig probe
// is answered only once the .att probe has arrived, which asked one after
// the other would never happen (the .sig probe would give up first).
func TestProbesRunConcurrently(t *testing.T) {
	s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
	subject := pushSubject(t, s.target)
	attArrived := make(chan struct{})
	var once sync.Once
	s.reg.Faults.Inject("", `\.att$`, testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		once.Do(func() { close(attArrived) })
		w.WriteHeader(http.StatusNotFound)
	})))
	s.reg.Faults.Inject("", `\.sig$`, testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-attArrived:
			w.WriteHeader(http.StatusNotFound)
		case <-time.After(5 * time.Second):
			w.WriteHeader(http.StatusInternalServerError)
		}
	})))
	opts := s.opts()
	opts.Mode = referrers.ModeTag
	if _, err := referrers.Discover(testkit.Context(t), s.target, subject, opts); err != nil {
		t.Fatalf("the .sig probe waited for an .att probe that never came: %v", err)
	}
}

// Through the Referrers API of a registry that lists each entry's own
// artifactType, as the spec asks and zot does (go-containerregistry's is
// made to here, by rewriting its answer), unrelated entries are skipped
// unfetched: the requests do not grow with them.
func TestKindsSkipUnfetchedThroughTheAPI(t *testing.T) {
	const unrelated = 20
	s := openSite(t, testregistry.GGCR(t), "wasm/tiny")
	subject := pushSubject(t, s.target)
	types := map[string]string{}
	for i := range unrelated {
		d := attach(t, s.target, subject, typeUnrelated, "application/octet-stream", fmt.Sprint("report ", i), nil)
		types[d.Digest.String()] = typeUnrelated
	}
	bundle := attach(t, s.target, subject, typeBundle, evidence.MediaTypeSigstoreBundlePrefix+"v0.3+json", `{}`, nil)
	types[bundle.Digest.String()] = typeBundle
	s.reg.Faults.Inject("GET", "/referrers/", testregistry.ReplaceBody(func(body []byte) []byte {
		var idx ocispec.Index
		if err := json.Unmarshal(body, &idx); err != nil {
			t.Errorf("ggcr's referrers answer: %v", err)
			return body
		}
		for i := range idx.Manifests {
			idx.Manifests[i].ArtifactType = types[idx.Manifests[i].Digest.String()]
		}
		out, _ := json.Marshal(idx)
		return out
	}))
	s.reg.Faults.ResetLog()
	opts := s.opts()
	opts.Kinds = []referrers.Kind{referrers.KindSigstoreBundle}
	res, err := referrers.Discover(testkit.Context(t), s.target, subject, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Listing != referrers.PathAPI || len(res.Referrers) != 1 || res.Referrers[0].Digest != bundle.Digest {
		t.Fatalf("listing %s, referrers %v", res.Listing, digests(res.Referrers))
	}
	if res.Unfetched != unrelated {
		t.Errorf("unfetched %d, want %d", res.Unfetched, unrelated)
	}
	if n := manifestGETs(s.reg); n != 1 {
		t.Errorf("%d manifests fetched by digest, want 1 (the bundle)", n)
	}
}

// A repository the registry does not know (404 NAME_UNKNOWN) says nothing
// about the registry's Referrers API: a later discovery in a repository
// that exists still asks the API and finds what only the API lists.
func TestUnknownRepositoryIsNotNoAPI(t *testing.T) {
	s := openSite(t, testregistry.GGCR(t), "wasm/tiny")
	subject := pushSubject(t, s.target)
	bundle := attach(t, s.target, subject, typeBundle, evidence.MediaTypeSigstoreBundlePrefix+"v0.3+json", `{}`, nil)
	absent := s.ref
	absent.Registry.Repository = "wasm/absent"
	src := s.client.Repository(absent.Registry)
	if _, err := referrers.Discover(testkit.Context(t), src, subject, referrers.Options{API: s.client.ReferrersAPI(absent.Registry, 0)}); err != nil {
		t.Logf("discovery in an unknown repository: %v", err)
	}
	res, err := referrers.Discover(testkit.Context(t), s.target, subject, referrers.Options{API: s.client.ReferrersAPI(s.ref.Registry, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Listing != referrers.PathAPI || len(res.Referrers) != 1 || res.Referrers[0].Digest != bundle.Digest {
		t.Fatalf("after an unknown repository: listing %s, referrers %v", res.Listing, digests(res.Referrers))
	}
}

// In-toto layouts and links are kinds of their own: asked for, they are
// found and classified; not asked for, they are skipped (unfetched where
// the listing names their type), as discovery skips any kind no verifier
// reads.
func TestKindsInTotoLayoutAndLinks(t *testing.T) {
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			s := openSite(t, testregistry.New(t, kind), "wasm/tiny")
			subject := pushSubject(t, s.target)
			layout := attach(t, s.target, subject, evidence.ArtifactTypeInTotoLayout, "application/octet-stream", `{"layout":1}`, nil)
			link := attach(t, s.target, subject, evidence.ArtifactTypeInTotoLink, "application/octet-stream", `{"link":1}`, nil)
			bundle := attach(t, s.target, subject, typeBundle, evidence.MediaTypeSigstoreBundlePrefix+"v0.3+json", `{}`,
				map[string]string{evidence.AnnotationBundlePredicateType: evidence.PredicateTypeCosignSign})

			opts := s.opts()
			opts.Kinds = []referrers.Kind{referrers.KindInTotoLayout, referrers.KindInTotoLink}
			res, err := referrers.Discover(testkit.Context(t), s.target, subject, opts)
			if err != nil {
				t.Fatal(err)
			}
			kinds := map[string]referrers.Kind{}
			for _, r := range res.Referrers {
				kinds[r.Digest.String()] = r.Kind
			}
			if len(res.Referrers) != 2 || kinds[layout.Digest.String()] != referrers.KindInTotoLayout || kinds[link.Digest.String()] != referrers.KindInTotoLink {
				t.Fatalf("referrers %v (kinds %v), want the layout and the link", digests(res.Referrers), kinds)
			}
			if res.Skipped != 1 {
				t.Errorf("skipped %d, want 1 (the bundle)", res.Skipped)
			}

			s.reg.Faults.ResetLog()
			opts.Kinds = []referrers.Kind{referrers.KindSigstoreBundle}
			res, err = referrers.Discover(testkit.Context(t), s.target, subject, opts)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Referrers) != 1 || res.Referrers[0].Digest != bundle.Digest || res.Skipped != 2 {
				t.Fatalf("referrers %v, skipped %d: want only the bundle, the layout and link skipped", digests(res.Referrers), res.Skipped)
			}
			if kind == testregistry.KindDistribution {
				if res.Unfetched != 2 || res.SkippedTypes[evidence.ArtifactTypeInTotoLayout] != 1 || res.SkippedTypes[evidence.ArtifactTypeInTotoLink] != 1 {
					t.Errorf("unfetched %d, types %v: the fallback index names their types", res.Unfetched, res.SkippedTypes)
				}
				for _, d := range []string{layout.Digest.String(), link.Digest.String()} {
					if n := s.reg.Faults.Count("GET", "/manifests/"+d); n != 0 {
						t.Errorf("%s fetched %d times though no verifier reads it", d, n)
					}
				}
			}
		})
	}
}
