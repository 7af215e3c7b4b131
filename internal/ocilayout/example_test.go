package ocilayout_test

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry"

	"github.com/wasmgate/wasmgate/internal/ocilayout"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ocilayout-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := ocilayout.Open(filepath.Join(dir, "layout"), ocilayout.Options{})
	if err != nil {
		log.Fatal(err)
	}
	module := []byte("\x00asm\x01\x00\x00\x00")
	layer := content.NewDescriptorFromBytes("application/wasm", module)
	if err := s.Push(ctx, layer, bytes.NewReader(module)); err != nil {
		log.Fatal(err)
	}
	manifest, err := oras.PackManifest(ctx, s, oras.PackManifestVersion1_1, "application/vnd.example.wasm", oras.PackManifestOptions{
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{"org.opencontainers.image.created": "2026-01-01T00:00:00Z"},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := s.Tag(ctx, manifest, "v1"); err != nil {
		log.Fatal(err)
	}

	desc, err := s.Resolve(ctx, "v1")
	if err != nil {
		log.Fatal(err)
	}
	tags, err := registry.Tags(ctx, s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(desc.MediaType, tags)
	// Output: application/vnd.oci.image.manifest.v1+json [v1]
}

func ExampleStore_Fsck() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "ocilayout-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := ocilayout.Open(dir, ocilayout.Options{})
	if err != nil {
		log.Fatal(err)
	}
	module := []byte("\x00asm\x01\x00\x00\x00")
	layer := content.NewDescriptorFromBytes("application/wasm", module)
	if err := s.Push(ctx, layer, bytes.NewReader(module)); err != nil {
		log.Fatal(err)
	}
	// Something other than the store changes the blob.
	blob := filepath.Join(dir, "blobs", "sha256", layer.Digest.Encoded())
	if err := os.WriteFile(blob, []byte("\x00asm\x02\x00\x00\x00"), 0o644); err != nil {
		log.Fatal(err)
	}

	report, err := s.Fsck(ctx, ocilayout.FsckOptions{Repair: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(report.Blobs, len(report.Corrupt), report.Removed)
	// Output: 1 1 1
}
