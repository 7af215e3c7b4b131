// Command seed-referrers attaches many referrers to one artifact quickly,
// for bench/run's discovery comparison: RELEVANT referrers of a signature
// type and UNRELATED ones of another type. With -fallback the OCI tag
// schema index (sha256-<hex>) is written once at the end, listing every
// referrer with its artifactType, as a registry without the Referrers API
// needs; oras-go would otherwise rewrite it after each push. An index
// already under that tag (signatures cosign attached before) is merged, not
// replaced: its entries are kept, after the new ones, so a reader that stops
// at its first match still walks past every unrelated referrer.
//
//	seed-referrers [-plain-http] [-fallback] -relevant 3 -unrelated 1000 REGISTRY/REPO@DIGEST
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
	"oras.land/oras-go/v2/registry/remote"
)

const (
	typeRelevant  = "application/vnd.dev.sigstore.bundle.v0.3+json"
	typeUnrelated = "application/vnd.example.unrelated"
)

func main() {
	plainHTTP := flag.Bool("plain-http", false, "speak plain HTTP")
	fallback := flag.Bool("fallback", false, "write the tag schema index at the end (registries without the Referrers API)")
	relevant := flag.Int("relevant", 3, "referrers of the signature type")
	unrelated := flag.Int("unrelated", 0, "referrers of an unrelated type")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: seed-referrers [-plain-http] [-fallback] -relevant N -unrelated M REGISTRY/REPO@DIGEST")
		os.Exit(2)
	}
	if err := seed(context.Background(), flag.Arg(0), *plainHTTP, *fallback, *relevant, *unrelated); err != nil {
		fmt.Fprintln(os.Stderr, "seed-referrers:", err)
		os.Exit(1)
	}
}

func seed(ctx context.Context, reference string, plainHTTP, fallback bool, relevant, unrelated int) error {
	ref, err := registry.ParseReference(reference)
	if err != nil {
		return err
	}
	repo, err := remote.NewRepository(ref.Registry + "/" + ref.Repository)
	if err != nil {
		return err
	}
	repo.PlainHTTP = plainHTTP
	if err := repo.SetReferrersCapability(true); err != nil { // no index upkeep per push
		return err
	}
	subject, err := repo.Resolve(ctx, ref.Reference)
	if err != nil {
		return err
	}
	var index []ocispec.Descriptor
	push := func(artifactType string, i int) error {
		layer, err := oras.PushBytes(ctx, repo, "application/octet-stream", []byte(fmt.Sprintf("%s %d", artifactType, i)))
		if err != nil {
			return err
		}
		desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
			Subject: &subject, Layers: []ocispec.Descriptor{layer},
			ManifestAnnotations: map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"},
		})
		if err != nil {
			return err
		}
		desc.ArtifactType, desc.Annotations = artifactType, map[string]string{ocispec.AnnotationCreated: "2026-01-01T00:00:00Z"}
		index = append(index, desc)
		return nil
	}
	for i := range unrelated {
		if err := push(typeUnrelated, i); err != nil {
			return err
		}
	}
	for i := range relevant {
		if err := push(typeRelevant, i); err != nil {
			return err
		}
	}
	if !fallback {
		return nil
	}
	tag := strings.Replace(subject.Digest.String(), ":", "-", 1)
	old, err := existing(ctx, repo, tag)
	if err != nil {
		return err
	}
	for _, d := range old {
		if !slices.ContainsFunc(index, func(n ocispec.Descriptor) bool { return n.Digest == d.Digest }) {
			index = append(index, d)
		}
	}
	raw, err := json.Marshal(ocispec.Index{Versioned: specsVersioned(), MediaType: ocispec.MediaTypeImageIndex, Manifests: index})
	if err != nil {
		return err
	}
	_, err = oras.TagBytes(ctx, repo, ocispec.MediaTypeImageIndex, raw, tag)
	return err
}

// existing returns the entries of the index under tag, none if there is no
// such tag.
func existing(ctx context.Context, repo *remote.Repository, tag string) ([]ocispec.Descriptor, error) {
	desc, raw, err := oras.FetchBytes(ctx, repo, tag, oras.DefaultFetchBytesOptions)
	if errors.Is(err, errdef.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var index ocispec.Index
	if desc.MediaType != ocispec.MediaTypeImageIndex {
		return nil, fmt.Errorf("tag %s is a %s, not an image index", tag, desc.MediaType)
	}
	if err := json.Unmarshal(raw, &index); err != nil {
		return nil, fmt.Errorf("tag %s: %w", tag, err)
	}
	return index.Manifests, nil
}

func specsVersioned() specs.Versioned { return specs.Versioned{SchemaVersion: 2} }
