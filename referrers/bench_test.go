package referrers_test

import (
	"fmt"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
)

const typeRelevant = "application/vnd.dev.sigstore.bundle.v0.3+json"

// seedReferrers pushes n referrers of artifactType to subject with oras-go,
// through a repository that knows whether the registry has the API (no
// probe per push).
func seedReferrers(b *testing.B, dst oras.Target, subject ocispec.Descriptor, artifactType string, n int) {
	for i := range n {
		layer := []byte(fmt.Sprintf("%s %d", artifactType, i))
		d, err := oras.PushBytes(testkit.Context(b), dst, "application/octet-stream", layer)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := oras.PackManifest(testkit.Context(b), dst, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
			Subject: &subject, Layers: []ocispec.Descriptor{d},
			ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"},
		}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiscover measures discovery of the 3 referrers of one artifact
// type, alone and among 1,000 unrelated ones, on a registry with the
// Referrers API (go-containerregistry's, which reports the config media
// type as artifactType, so every entry must be fetched to be judged) and
// one without (distribution: the fallback index carries each entry's real
// artifactType, so unrelated entries are skipped unfetched).
func BenchmarkDiscover(b *testing.B) {
	for _, kind := range testregistry.Kinds() {
		for _, unrelated := range []int{0, 1000} {
			b.Run(fmt.Sprintf("%s/unrelated=%d", kind, unrelated), func(b *testing.B) {
				s := openSite(b, testregistry.New(b, kind), "wasm/tiny")
				subject := pushSubject(b, s.target)
				var dst oras.Target = s.target
				if kind == testregistry.KindGGCR {
					repo := s.reg.Repository(b, "wasm/tiny")
					_ = repo.SetReferrersCapability(true) // capability known: no fallback tag per push
					dst = repo
				}
				seedReferrers(b, dst, subject, "application/vnd.example.unrelated", unrelated)
				seedReferrers(b, dst, subject, typeRelevant, 3)
				opts := s.opts()
				opts.ArtifactType = typeRelevant
				opts.NoLegacyTags = true
				b.ResetTimer()
				for range b.N {
					res, err := referrers.Discover(testkit.Context(b), s.target, subject, opts)
					if err != nil {
						b.Fatal(err)
					}
					if len(res.Referrers) != 3 {
						b.Fatalf("found %d", len(res.Referrers))
					}
				}
			})
		}
	}
}
