package ocilayout

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"oras.land/oras-go/v2/content"
)

// FuzzIndex feeds arbitrary index.json files to the store: whatever it
// reads must not panic, and an index it accepts must survive a Tag and
// read back with the new tag.
func FuzzIndex(f *testing.F) {
	f.Add([]byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","size":0,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":[{"digest":"sha384:00","size":-1,"annotations":{"org.opencontainers.image.ref.name":""}}],"annotations":{"a":"b"}}`))
	f.Add([]byte(`{"schemaVersion":2,"manifests":null}`))
	f.Add([]byte(`[]`))
	dir := f.TempDir()
	s, err := Open(filepath.Join(dir, "layout"), Options{AllowAnyRefName: true})
	if err != nil {
		f.Fatal(err)
	}
	blob := content.NewDescriptorFromBytes("application/wasm", wasmModule)
	if err := s.Push(f.Context(), blob, bytes.NewReader(wasmModule)); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, index []byte) {
		if err := os.WriteFile(filepath.Join(s.Dir(), "index.json"), index, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		if _, err := s.Manifests(ctx); err != nil {
			return
		}
		s.Resolve(ctx, "v1")
		s.Fsck(ctx, FsckOptions{})
		if err := s.Tag(ctx, blob, "fuzz"); err != nil {
			t.Fatalf("Tag on an index Manifests accepted: %v", err)
		}
		got, err := s.Resolve(ctx, "fuzz")
		if err != nil || got.Digest != blob.Digest {
			t.Fatalf("Resolve(fuzz) = %v, %v", got.Digest, err)
		}
		b, _ := os.ReadFile(filepath.Join(s.Dir(), "index.json"))
		if !json.Valid(b) {
			t.Fatalf("Tag wrote invalid JSON: %s", b)
		}
	})
}
