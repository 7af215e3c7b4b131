package ocilayout

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/content/oci"
	"oras.land/oras-go/v2/registry"
)

// orasFetcher is what both of oras-go's layout stores offer.
type orasFetcher interface {
	oras.ReadOnlyTarget
	registry.TagLister
}

// readImage resolves ref in t and returns the module in the image's layer,
// read and verified through oras-go.
func readImage(t *testing.T, target oras.ReadOnlyTarget, ref string) []byte {
	t.Helper()
	ctx := t.Context()
	desc, err := target.Resolve(ctx, ref)
	if err != nil {
		t.Fatalf("Resolve(%q): %v", ref, err)
	}
	b, err := content.FetchAll(ctx, target, desc)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	layer, err := content.FetchAll(ctx, target, m.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	return layer
}

func TestOrasReadsOurLayout(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{AllowAnyRefName: true})
	manifest := pushImage(t, s, wasmModule)
	other := pushImage(t, s, []byte("another module"))
	for ref, desc := range map[string]ocispec.Descriptor{
		"v1":                       manifest,
		"latest":                   other,
		"registry.example/repo:v1": manifest,
	} {
		if err := s.Tag(ctx, desc, ref); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Untag(ctx, "latest"); err != nil {
		t.Fatal(err)
	}

	fromFS, err := oci.NewFromFS(ctx, os.DirFS(s.Dir()))
	if err != nil {
		t.Fatal(err)
	}
	readWrite, err := oci.NewWithContext(ctx, s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	for name, o := range map[string]orasFetcher{"NewFromFS": fromFS, "NewWithContext": readWrite} {
		t.Run(name, func(t *testing.T) {
			for _, ref := range []string{"v1", "registry.example/repo:v1", string(manifest.Digest)} {
				if got := readImage(t, o, ref); !bytes.Equal(got, wasmModule) {
					t.Errorf("%s: module = %x, want %x", ref, got, wasmModule)
				}
			}
			tags, err := registry.Tags(ctx, o)
			if err != nil {
				t.Fatal(err)
			}
			if want := []string{"registry.example/repo:v1", "v1"}; !slices.Equal(tags, want) {
				t.Errorf("tags = %v, want %v", tags, want)
			}
		})
	}

	// oras.Copy treats the store as any other target.
	dst := memory.New()
	if _, err := oras.Copy(ctx, s, "v1", dst, "v1", oras.DefaultCopyOptions); err != nil {
		t.Fatal(err)
	}
	if got := readImage(t, dst, "v1"); !bytes.Equal(got, wasmModule) {
		t.Errorf("copied module = %x", got)
	}
}

func TestWeReadOrasLayout(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "oras")
	o, err := oci.NewWithContext(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	// Build the image in one of our stores, then let oras copy it into its
	// own layout, so every byte of that layout is written by oras-go.
	src := newStore(t, Options{})
	manifest := pushImage(t, src, wasmModule)
	if err := src.Tag(ctx, manifest, "v1"); err != nil {
		t.Fatal(err)
	}
	if _, err := oras.Copy(ctx, src, "v1", o, "v1", oras.DefaultCopyOptions); err != nil {
		t.Fatal(err)
	}
	if err := o.Tag(ctx, manifest, "stable"); err != nil {
		t.Fatal(err)
	}

	ro, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"v1", "stable", string(manifest.Digest)} {
		if got := readImage(t, ro, ref); !bytes.Equal(got, wasmModule) {
			t.Errorf("%s: module = %x", ref, got)
		}
	}
	if got, want := tagsOf(t, ro), []string{"stable", "v1"}; !slices.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}

	// Writing to it with our store keeps oras's tags, and oras reads ours.
	rw, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rw.Tag(ctx, manifest, "v2"); err != nil {
		t.Fatal(err)
	}
	again, err := oci.NewFromFS(ctx, os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	tags, err := registry.Tags(ctx, again)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"stable", "v1", "v2"}; !slices.Equal(tags, want) {
		t.Errorf("oras sees tags %v, want %v", tags, want)
	}
}
