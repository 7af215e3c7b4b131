package ocilayout

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
)

func flipByte(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFsckCorruptBlob(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{})
	manifest := pushImage(t, s, wasmModule)
	if err := s.Tag(ctx, manifest, "v1"); err != nil {
		t.Fatal(err)
	}
	layer := content.NewDescriptorFromBytes("application/wasm", wasmModule)

	r, err := s.Fsck(ctx, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Blobs != 3 || len(r.Corrupt) != 0 || r.Removed != 0 {
		t.Fatalf("clean layout: report = %+v", r)
	}

	flipByte(t, s.blobPath(layer.Digest))
	r, err = s.Fsck(ctx, FsckOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Corrupt, []digest.Digest{layer.Digest}) || r.Removed != 0 {
		t.Errorf("report = %+v, want the layer corrupt and nothing removed", r)
	}
	if ok, _ := s.Exists(ctx, layer); !ok {
		t.Error("Fsck without Repair removed a blob")
	}

	r, err = s.Fsck(ctx, FsckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Corrupt, []digest.Digest{layer.Digest}) || r.Removed != 1 {
		t.Errorf("report = %+v, want the layer corrupt and removed", r)
	}
	if ok, _ := s.Exists(ctx, layer); ok {
		t.Error("corrupt blob is still there")
	}
	// The tag is still good: it names the manifest, which is intact, and
	// pulling again would restore the layer.
	if _, err := s.Resolve(ctx, "v1"); err != nil {
		t.Errorf("Resolve(v1): %v", err)
	}
	if r, _ := s.Fsck(ctx, FsckOptions{}); r.Blobs != 2 || len(r.Corrupt) != 0 {
		t.Errorf("after repair: report = %+v", r)
	}
}

func TestFsckCorruptTaggedManifest(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{})
	manifest := pushImage(t, s, wasmModule)
	if err := s.Tag(ctx, manifest, "v1"); err != nil {
		t.Fatal(err)
	}
	flipByte(t, s.blobPath(manifest.Digest))
	r, err := s.Fsck(ctx, FsckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Corrupt, []digest.Digest{manifest.Digest}) || len(r.Dangling) != 1 || r.Removed != 2 {
		t.Errorf("report = %+v, want the manifest removed and its tag dropped", r)
	}
	if _, err := s.Resolve(ctx, "v1"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("Resolve(v1): err = %v, want ErrNotFound", err)
	}
}

func TestFsckTempsAndUnknown(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{})
	push(t, s, "application/wasm", wasmModule)
	old := time.Now().Add(-2 * DefaultTempGrace)
	write := func(rel string, mtime time.Time) {
		p := filepath.Join(s.Dir(), filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	write("blobs/sha256/"+tmpPrefix+"old", old)
	write(tmpPrefix+"index-old", old)
	write("blobs/sha256/"+tmpPrefix+"in-progress", time.Now())
	write("blobs/sha256/README", old)
	write("blobs/md5/0123", old)

	r, err := s.Fsck(ctx, FsckOptions{Repair: true})
	if err != nil {
		t.Fatal(err)
	}
	wantStray := []string{"blobs/sha256/" + tmpPrefix + "old", tmpPrefix + "index-old"}
	if !slices.Equal(r.StrayTemps, wantStray) || r.Removed != 2 {
		t.Errorf("stray = %v, removed %d; want %v removed", r.StrayTemps, r.Removed, wantStray)
	}
	if wantUnknown := []string{"blobs/md5", "blobs/sha256/README"}; !slices.Equal(r.Unknown, wantUnknown) {
		t.Errorf("unknown = %v, want %v", r.Unknown, wantUnknown)
	}
	got := layoutFiles(t, s.Dir())
	want := []string{
		"blobs/md5/0123",
		"blobs/sha256/" + tmpPrefix + "in-progress",
		"blobs/sha256/README",
		"blobs/sha256/" + content.NewDescriptorFromBytes("", wasmModule).Digest.Encoded(),
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("left %v, want %v", got, want)
	}
}

func TestFsckReadOnly(t *testing.T) {
	s := newStore(t, Options{})
	ro, err := OpenReadOnly(s.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.Fsck(t.Context(), FsckOptions{}); err != nil {
		t.Errorf("check: %v", err)
	}
	if _, err := ro.Fsck(t.Context(), FsckOptions{Repair: true}); !errors.Is(err, ErrReadOnly) {
		t.Errorf("repair: err = %v, want ErrReadOnly", err)
	}
}

func TestFsckCanceled(t *testing.T) {
	s := newStore(t, Options{})
	push(t, s, "application/wasm", wasmModule)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Fsck(ctx, FsckOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestBlobs(t *testing.T) {
	s := newStore(t, Options{})
	manifest := pushImage(t, s, wasmModule)
	sha512 := []byte("a sha512 blob")
	big := ocispec.Descriptor{MediaType: "application/wasm", Digest: digest.SHA512.FromBytes(sha512), Size: int64(len(sha512))}
	if err := s.Push(t.Context(), big, bytes.NewReader(sha512)); err != nil {
		t.Fatal(err)
	}
	sizes := map[digest.Digest]int64{}
	err := s.Blobs(t.Context(), func(b BlobInfo) error {
		sizes[b.Digest] = b.Size
		if b.ModTime.IsZero() {
			t.Errorf("%s: no ModTime", b.Digest)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 4 || sizes[manifest.Digest] != manifest.Size || sizes[big.Digest] != big.Size {
		t.Errorf("Blobs saw %v", sizes)
	}
	stop := errors.New("stop")
	if err := s.Blobs(t.Context(), func(BlobInfo) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("err = %v, want fn's error", err)
	}
}
