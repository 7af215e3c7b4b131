package referrers_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/evidence"
	"github.com/wasmgate/wasmgate/internal/ocilayout"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
)

const (
	typeSPDX = "application/spdx+json"
	typeSig  = "application/vnd.example.signature"
)

// decorate attaches an SBOM, an in-toto statement and, on the SBOM, a
// signature: referrers of referrers.
func decorate(t *testing.T, dst oras.Target, subject ocispec.Descriptor) (sbom, intoto, sig ocispec.Descriptor) {
	sbom = attach(t, dst, subject, typeSPDX, typeSPDX, `{"spdxVersion":"SPDX-2.3"}`, nil)
	intoto = attach(t, dst, subject, evidence.ArtifactTypeInToto, evidence.ArtifactTypeInToto,
		`{"_type":"https://in-toto.io/Statement/v1"}`, map[string]string{evidence.AnnotationInTotoPredicateType: "https://slsa.dev/provenance/v1"})
	sig = attach(t, dst, sbom, typeSig, "application/octet-stream", "signature bytes", nil)
	return sbom, intoto, sig
}

func TestDiscoverOnBothRegistryKinds(t *testing.T) {
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			s := openSite(t, testregistry.New(t, kind), "wasm/tiny")
			subject := pushSubject(t, s.target)
			sbom, intoto, sig := decorate(t, s.target, subject)

			res, err := referrers.Tree(testkit.Context(t), s.target, subject, 2, s.opts())
			if err != nil {
				t.Fatal(err)
			}
			wantListing := referrers.PathTag
			if kind == testregistry.KindGGCR {
				wantListing = referrers.PathAPI
			}
			if res.Listing != wantListing {
				t.Errorf("listed by %s, want %s", res.Listing, wantListing)
			}
			if len(res.Rejected) != 0 {
				t.Errorf("rejected: %+v", res.Rejected)
			}
			got := digests(res.Referrers)
			want := []digest.Digest{sbom.Digest, intoto.Digest}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("referrers %v, want %v", got, want)
			}
			for _, r := range res.Referrers {
				if !slices.Equal(r.Found, []referrers.Path{wantListing}) {
					t.Errorf("%s found by %v, want only %s (no duplicate fallback tag on an API registry)", r.Digest, r.Found, wantListing)
				}
				switch r.Digest {
				case sbom.Digest:
					if r.Kind != referrers.KindSBOM || len(r.Referrers) != 1 || r.Referrers[0].Digest != sig.Digest || r.Referrers[0].ArtifactType != typeSig {
						t.Errorf("sbom: %+v", r)
					}
				case intoto.Digest:
					if r.Kind != referrers.KindInToto || r.PredicateType != "https://slsa.dev/provenance/v1" || r.ArtifactType != evidence.ArtifactTypeInToto {
						t.Errorf("in-toto: %+v", r)
					}
				}
			}

			// The filter keeps one type, decided from the manifest.
			opts := s.opts()
			opts.ArtifactType = typeSPDX
			res, err = referrers.Discover(testkit.Context(t), s.target, subject, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := digests(res.Referrers); len(got) != 1 || got[0] != sbom.Digest {
				t.Errorf("filtered: %v", got)
			}

			// Mode api on a registry without the API is an error; mode tag
			// on one with it finds nothing (nobody wrote a fallback index).
			opts = s.opts()
			opts.Mode = referrers.ModeAPI
			_, err = referrers.Discover(testkit.Context(t), s.target, subject, opts)
			if kind == testregistry.KindDistribution && !errors.Is(err, referrers.ErrNoAPI) {
				t.Errorf("mode api on distribution: %v, want ErrNoAPI", err)
			}
			opts.Mode = referrers.ModeTag
			res, err = referrers.Discover(testkit.Context(t), s.target, subject, opts)
			if err != nil {
				t.Fatal(err)
			}
			if kind == testregistry.KindGGCR && len(res.Referrers) != 0 {
				t.Errorf("mode tag on ggcr found %d referrers; a fallback tag was written needlessly", len(res.Referrers))
			}
		})
	}
}

// copy -r from a registry with the API, through an OCI layout, to one
// without it: digests preserved, the same tree found at every stop.
func TestCopyRecursiveRoundTrip(t *testing.T) {
	from := openSite(t, testregistry.GGCR(t), "wasm/tiny")
	subject := pushSubject(t, from.target)
	decorate(t, from.target, subject)
	want, err := referrers.Tree(testkit.Context(t), from.target, subject, 3, from.opts())
	if err != nil {
		t.Fatal(err)
	}

	layout, err := ocilayout.Open(filepath.Join(t.TempDir(), "usb"), ocilayout.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := referrers.Copy(testkit.Context(t), from.target, "v1", layout, "v1", referrers.CopyOptions{Recursive: true, Discover: from.opts()}); err != nil {
		t.Fatal(err)
	}
	to := openSite(t, testregistry.Distribution(t), "mirror/tiny")
	if _, err := referrers.Copy(testkit.Context(t), layout, "v1", to.target, "v1", referrers.CopyOptions{Recursive: true}); err != nil {
		t.Fatal(err)
	}

	for name, got := range map[string]func() (*referrers.Result, error){
		"layout": func() (*referrers.Result, error) {
			return referrers.Tree(testkit.Context(t), layout, subject, 3, referrers.Options{})
		},
		"distribution": func() (*referrers.Result, error) {
			return referrers.Tree(testkit.Context(t), to.target, subject, 3, to.opts())
		},
	} {
		res, err := got()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if a, b := treeString(want.Referrers), treeString(res.Referrers); a != b {
			t.Errorf("%s tree differs:\n got %s\nwant %s", name, b, a)
		}
	}
	// The pulled artifact is the same, byte for byte.
	if _, err := access.Pull(testkit.Context(t), to.target, subject.Digest.String(), t.TempDir(), access.PullOptions{}); err != nil {
		t.Fatal(err)
	}
}

func treeString(rs []referrers.Referrer) string {
	parts := make([]string, 0, len(rs))
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%s %s %s [%s]", r.Digest.Encoded()[:12], r.Kind, r.ArtifactType, treeString(r.Referrers)))
	}
	slices.Sort(parts)
	return strings.Join(parts, "; ")
}

// rawIndex builds an image index listing descs.
func rawIndex(t testing.TB, descs ...ocispec.Descriptor) []byte {
	idx := ocispec.Index{MediaType: ocispec.MediaTypeImageIndex, Manifests: descs}
	idx.SchemaVersion = 2
	b, err := json.Marshal(idx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Hostile listings: every bad referrer is reported with a typed reason and
// never returned.
func TestDiscoverRejects(t *testing.T) {
	t.Run("fallback index naming another subject's referrers", func(t *testing.T) {
		s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
		a := pushSubject(t, s.target)
		b := pushSubjectVariant(t, s.target)
		bSig := attach(t, s.target, b, typeSig, "application/octet-stream", "sig of b", nil)
		// Replay: list b's signature in a's fallback index.
		if _, err := oras.TagBytes(testkit.Context(t), s.target, ocispec.MediaTypeImageIndex, rawIndex(t, bSig), referrers.TagSchema(a.Digest)); err != nil {
			t.Fatal(err)
		}
		res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
		if err != nil {
			t.Fatal(err)
		}
		assertRejected(t, res, bSig.Digest, referrers.ErrSubjectMismatch)
	})
	t.Run("fallback tag resolving to the subject itself", func(t *testing.T) {
		s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
		a := pushSubject(t, s.target)
		if err := s.target.Tag(testkit.Context(t), a, referrers.TagSchema(a.Digest)); err != nil {
			t.Fatal(err)
		}
		res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
		if err != nil {
			t.Fatal(err)
		}
		assertRejected(t, res, a.Digest, referrers.ErrSelfReference)
	})
	for _, kind := range testregistry.Kinds() {
		t.Run("referrer bytes not matching the listed digest/"+string(kind), func(t *testing.T) {
			s := openSite(t, testregistry.New(t, kind), "wasm/tiny")
			a := pushSubject(t, s.target)
			sig := attach(t, s.target, a, typeSig, "application/octet-stream", "sig", nil)
			s.reg.Faults.Inject("GET", "/manifests/"+sig.Digest.String(), testregistry.TamperBody())
			res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
			if err != nil {
				t.Fatal(err)
			}
			assertRejected(t, res, sig.Digest, artifact.ErrDigestMismatch)
		})
	}
	t.Run("50 MiB fallback index", func(t *testing.T) {
		s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
		a := pushSubject(t, s.target)
		attach(t, s.target, a, typeSig, "application/octet-stream", "sig", nil)
		s.reg.Faults.Inject("", "/manifests/"+referrers.TagSchema(a.Digest)+"$", testregistry.LargeBody(50<<20))
		res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Referrers) != 0 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0].Reason, artifact.ErrTooLarge) {
			t.Fatalf("got %+v", res)
		}
	})
	t.Run("fallback index of 100,000 entries", func(t *testing.T) {
		s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
		a := pushSubject(t, s.target)
		attach(t, s.target, a, typeSig, "application/octet-stream", "sig", nil)
		s.reg.Faults.Inject("", "/manifests/"+referrers.TagSchema(a.Digest)+"$", testregistry.ReplaceBody(func([]byte) []byte {
			return rawIndex(t, manyDescriptors(100_000)...)
		}))
		res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
		if err != nil {
			t.Fatal(err)
		}
		// Over the index size bound: refused before it is read.
		if len(res.Referrers) != 0 || len(res.Rejected) != 1 || !errors.Is(res.Rejected[0].Reason, artifact.ErrTooLarge) {
			t.Fatalf("got %d referrers, rejected %+v", len(res.Referrers), res.Rejected)
		}
	})
	t.Run("fallback index of 25,000 entries, within the size bound", func(t *testing.T) {
		s := openSite(t, testregistry.Distribution(t), "wasm/tiny")
		a := pushSubject(t, s.target)
		attach(t, s.target, a, typeSig, "application/octet-stream", "sig", nil)
		// The hostile registry serves the index for its tag and its digest.
		body := rawIndex(t, manyDescriptors(25_000)...)
		s.reg.Faults.Inject("", "/manifests/("+referrers.TagSchema(a.Digest)+"|"+digest.FromBytes(body).String()+")$",
			testregistry.Respond(serve(ocispec.MediaTypeImageIndex, body)))
		// Over the count bound (10,000 by default): the listing fails; no
		// referrer manifest is fetched.
		s.reg.Faults.ResetLog()
		if res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts()); !errors.Is(err, referrers.ErrTooManyReferrers) {
			t.Fatalf("err = %v, want ErrTooManyReferrers; %+v", err, res)
		}
		if n := s.reg.Faults.Count("GET", "/manifests/sha256:"); n != 1 {
			t.Errorf("%d manifests fetched by digest, want 1: the index itself", n)
		}
	})
	t.Run("endless Link chain", func(t *testing.T) {
		s := openSite(t, testregistry.GGCR(t), "wasm/tiny")
		a := pushSubject(t, s.target)
		// A Referrers API that always has a next page. No registry that
		// paginates runs here (zot is not served), so the page is made by
		// the test.
		n := 0
		s.reg.Faults.Inject("GET", "/referrers/", testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n++
			w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
			w.Header().Set("Link", fmt.Sprintf(`<%s?n=%d>; rel="next"`, r.URL.Path, n))
			w.Write(rawIndex(t))
		})))
		_, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
		if !errors.Is(err, errdef.ErrTooManyPages) {
			t.Fatalf("err = %v, want ErrTooManyPages", err)
		}
		if n > 60 {
			t.Errorf("followed %d pages", n)
		}
	})
}

// More referrers than one page: the API is followed page by page, and the
// listing's duplicates (API and fallback tag) are merged.
func TestDiscoverPagesAndDuplicates(t *testing.T) {
	s := openSite(t, testregistry.GGCR(t), "wasm/tiny")
	a := pushSubject(t, s.target)
	var listed []ocispec.Descriptor
	var want []digest.Digest
	for i := range 5 {
		d := attach(t, s.target, a, typeSig, "application/octet-stream", fmt.Sprintf("sig %d", i), nil)
		d.ArtifactType = typeSig
		listed = append(listed, d)
		want = append(want, d.Digest)
	}
	slices.Sort(want)
	// Serve the real referrers two a page with Link headers: ggcr answers
	// in one page, and no registry that paginates runs here (zot is not
	// served), so the pages are cut by the test.
	var pages int
	s.reg.Faults.Inject("GET", "/referrers/", testregistry.Respond(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := 0
		fmt.Sscan(r.URL.Query().Get("start"), &start)
		end := min(start+2, len(listed))
		pages++
		if end < len(listed) {
			w.Header().Set("Link", fmt.Sprintf(`<%s?start=%d>; rel="next"`, r.URL.Path, end))
		}
		w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
		w.Write(rawIndex(t, listed[start:end]...))
	})))
	// And a stale fallback index listing one of them again (notation writes both).
	if _, err := oras.TagBytes(testkit.Context(t), s.target, ocispec.MediaTypeImageIndex,
		rawIndex(t, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: want[0], Size: 1}), referrers.TagSchema(a.Digest)); err != nil {
		t.Fatal(err)
	}
	res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
	if err != nil {
		t.Fatal(err)
	}
	if got := digests(res.Referrers); !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if pages != 3 {
		t.Errorf("%d pages served, want 3", pages)
	}
}

func assertRejected(t *testing.T, res *referrers.Result, d digest.Digest, want error) {
	t.Helper()
	if len(res.Referrers) != 0 {
		t.Errorf("returned %v", digests(res.Referrers))
	}
	for _, r := range res.Rejected {
		if r.Digest == d && errors.Is(r.Reason, want) {
			var re *referrers.RejectError
			if !errors.As(r.Reason, &re) {
				t.Errorf("reason is not a *RejectError: %T", r.Reason)
			}
			return
		}
	}
	t.Fatalf("%s not rejected with %v: %+v", d, want, res.Rejected)
}

func manyDescriptors(n int) []ocispec.Descriptor {
	out := make([]ocispec.Descriptor, n)
	for i := range out {
		out[i] = ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString(fmt.Sprint(i)), Size: 100}
	}
	return out
}

// serve answers GET and HEAD with body as a registry would.
func serve(mediaType string, body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaType)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(body).String())
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method != http.MethodHead {
			w.Write(body)
		}
	})
}

// A registry that answers the Referrers API with 405 (as some do for an
// endpoint they lack) is treated as one without the API: attach keeps the
// fallback index and discover reads it.
func TestOddReferrersStatusFallsBack(t *testing.T) {
	for _, status := range []int{http.StatusBadRequest, http.StatusMethodNotAllowed, http.StatusNotImplemented} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			s := openSite(t, testregistry.GGCR(t), "wasm/tiny")
			s.reg.Faults.Inject("GET", "/referrers/", testregistry.Status(status, 0))
			a := pushSubject(t, s.target)
			sig := attach(t, s.target, a, typeSig, "application/octet-stream", "sig", nil)
			res, err := referrers.Discover(testkit.Context(t), s.target, a, s.opts())
			if err != nil {
				t.Fatal(err)
			}
			if res.Listing != referrers.PathTag || len(res.Referrers) != 1 || res.Referrers[0].Digest != sig.Digest {
				t.Fatalf("listing %s, referrers %v", res.Listing, digests(res.Referrers))
			}
		})
	}
}

func TestTagSchema(t *testing.T) {
	d256 := digest.FromString("x")
	if got := referrers.TagSchema(d256); got != "sha256-"+d256.Encoded() {
		t.Errorf("sha256: %s", got)
	}
	// The spec truncates the encoded part to 64 characters: sha512 tags
	// are "sha512-" and the first half of the hex.
	d512 := digest.SHA512.FromString("x")
	if got := referrers.TagSchema(d512); got != "sha512-"+d512.Encoded()[:64] {
		t.Errorf("sha512: %s", got)
	}
}
