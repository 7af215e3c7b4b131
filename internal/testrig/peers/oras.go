package peers

import (
	"maps"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
)

// Blob is one layer of an artifact made by [OrasAttach].
type Blob struct {
	MediaType string
	Data      []byte
	// Title becomes the layer's org.opencontainers.image.title annotation,
	// as `oras attach` sets it from the file name; empty leaves it out.
	Title string
}

// Annotation keys `oras attach` users set.
const AnnotationPredicateType = "in-toto.io/predicate-type"

// OrasAttach attaches blobs to subject in repo the way `oras attach` does:
// each blob is pushed, then an OCI 1.1 image manifest (oras-go
// PackManifestVersion1_1) with artifactType, the empty config, the blobs as
// layers, subject and annotations (oras-go adds
// org.opencontainers.image.created). It returns the manifest's descriptor.
//
// Whether the fallback tag sha256-<hex> is written depends on repo: oras-go
// writes it when the registry does not answer a manifest PUT with
// OCI-Subject, unless repo.SetReferrersCapability(true) was called.
func OrasAttach(t testing.TB, repo *remote.Repository, subject ocispec.Descriptor, artifactType string, annotations map[string]string, blobs ...Blob) ocispec.Descriptor {
	t.Helper()
	ctx := t.Context()
	layers := make([]ocispec.Descriptor, 0, len(blobs))
	for _, b := range blobs {
		d, err := oras.PushBytes(ctx, repo, b.MediaType, b.Data)
		if err != nil {
			t.Fatalf("peers: oras attach: pushing %s blob: %v", b.MediaType, err)
		}
		if b.Title != "" {
			d.Annotations = map[string]string{ocispec.AnnotationTitle: b.Title}
		}
		layers = append(layers, d)
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
		Subject:             &subject,
		Layers:              layers,
		ManifestAnnotations: maps.Clone(annotations),
	})
	if err != nil {
		t.Fatalf("peers: oras attach %s to %s: %v", artifactType, subject.Digest, err)
	}
	return desc
}
