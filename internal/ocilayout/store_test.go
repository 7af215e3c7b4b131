package ocilayout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"

	"github.com/wasmgate/wasmgate/artifact"
)

// wasmModule is the smallest valid WebAssembly module: magic and version.
var wasmModule = []byte("\x00asm\x01\x00\x00\x00")

func newStore(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "layout"), opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func push(t *testing.T, s *Store, mediaType string, b []byte) ocispec.Descriptor {
	t.Helper()
	desc := content.NewDescriptorFromBytes(mediaType, b)
	if err := s.Push(t.Context(), desc, bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	return desc
}

// pushImage stores a one-layer wasm image and returns its manifest
// descriptor.
func pushImage(t *testing.T, s *Store, module []byte) ocispec.Descriptor {
	t.Helper()
	cfg := push(t, s, "application/vnd.wasm.config.v0+json", []byte(`{"architecture":"wasm","os":"wasip1"}`))
	layer := push(t, s, "application/wasm", module)
	m := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    cfg,
		Layers:    []ocispec.Descriptor{layer},
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return push(t, s, ocispec.MediaTypeImageManifest, b)
}

// layoutFiles lists the regular files in a layout other than its three
// fixed ones, slash-separated and relative.
func layoutFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch rel = filepath.ToSlash(rel); rel {
		case "oci-layout", "index.json", lockName:
		default:
			out = append(out, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenCreatesLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "layout")
	if _, err := Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "oci-layout"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"imageLayoutVersion":"1.0.0"}`; got != want {
		t.Errorf("oci-layout = %s, want %s", got, want)
	}
	b, err = os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[]}`; got != want {
		t.Errorf("index.json = %s, want %s", got, want)
	}
	if fi, err := os.Stat(filepath.Join(dir, "blobs", "sha256")); err != nil || !fi.IsDir() {
		t.Errorf("blobs/sha256: %v", err)
	}
	// Reopening, read-write and read-only, finds the same layout.
	if _, err := Open(dir, Options{}); err != nil {
		t.Errorf("reopen: %v", err)
	}
	if _, err := OpenReadOnly(dir); err != nil {
		t.Errorf("OpenReadOnly: %v", err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Run("non-empty directory", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644)
		_, err := Open(dir, Options{})
		if !errors.Is(err, ErrNotLayout) {
			t.Fatalf("err = %v, want ErrNotLayout", err)
		}
		if files, _ := os.ReadDir(dir); len(files) != 1 {
			t.Errorf("Open wrote into a directory it refused: %v", files)
		}
	})
	t.Run("layout version", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"2.0.0"}`), 0o644)
		if _, err := Open(dir, Options{}); !errors.Is(err, errdef.ErrUnsupportedVersion) {
			t.Errorf("Open: err = %v, want ErrUnsupportedVersion", err)
		}
		if _, err := OpenReadOnly(dir); !errors.Is(err, errdef.ErrUnsupportedVersion) {
			t.Errorf("OpenReadOnly: err = %v, want ErrUnsupportedVersion", err)
		}
	})
	t.Run("read-only, not a layout", func(t *testing.T) {
		dir := t.TempDir()
		_, err := OpenReadOnly(dir)
		if !errors.Is(err, ErrNotLayout) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("err = %v, want ErrNotLayout and fs.ErrNotExist", err)
		}
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Errorf("OpenReadOnly wrote %v", files)
		}
	})
	t.Run("negative MaxBlobSize", func(t *testing.T) {
		if _, err := Open(t.TempDir(), Options{MaxBlobSize: -1}); err == nil {
			t.Error("Open accepted MaxBlobSize -1")
		}
	})
}

func TestPushFetchResolveRoundTrip(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{})
	manifest := pushImage(t, s, wasmModule)
	if err := s.Tag(ctx, manifest, "v1"); err != nil {
		t.Fatal(err)
	}

	got, err := s.Resolve(ctx, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Digest != manifest.Digest || got.Size != manifest.Size || got.MediaType != manifest.MediaType {
		t.Errorf("Resolve(v1) = %+v, want %+v", got, manifest)
	}
	if refName(got) != "v1" {
		t.Errorf("Resolve(v1) annotations = %v", got.Annotations)
	}

	b, err := content.FetchAll(ctx, s, got)
	if err != nil {
		t.Fatal(err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	layer, err := content.FetchAll(ctx, s, m.Layers[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(layer, wasmModule) {
		t.Errorf("layer = %x, want %x", layer, wasmModule)
	}
	for _, d := range []ocispec.Descriptor{manifest, m.Config, m.Layers[0]} {
		if ok, err := s.Exists(ctx, d); !ok || err != nil {
			t.Errorf("Exists(%s) = %v, %v", d.Digest, ok, err)
		}
	}
	missing := content.NewDescriptorFromBytes("application/wasm", []byte("absent"))
	if ok, err := s.Exists(ctx, missing); ok || err != nil {
		t.Errorf("Exists(missing) = %v, %v", ok, err)
	}
	if _, err := s.Fetch(ctx, missing); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("Fetch(missing) err = %v, want ErrNotFound", err)
	}
	if _, err := s.Resolve(ctx, "v2"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("Resolve(v2) err = %v, want ErrNotFound", err)
	}
	if files := layoutFiles(t, s.Dir()); len(files) != 3 {
		t.Errorf("layout holds %v, want three blobs and nothing else", files)
	}
}

// failingReader fails the test if Push reads it.
type failingReader struct{ t *testing.T }

func (r failingReader) Read([]byte) (int, error) {
	r.t.Error("Push read content for a blob it already has")
	return 0, io.ErrUnexpectedEOF
}

func TestPushExistingSkipsContent(t *testing.T) {
	s := newStore(t, Options{})
	desc := push(t, s, "application/wasm", wasmModule)
	if err := s.Push(t.Context(), desc, failingReader{t}); err != nil {
		t.Fatal(err)
	}
}

func TestPushReplacesWrongSizedBlob(t *testing.T) {
	s := newStore(t, Options{})
	desc := content.NewDescriptorFromBytes("application/wasm", wasmModule)
	// What a crash in another tool, or a truncating copy, could leave.
	if err := os.WriteFile(s.blobPath(desc.Digest), wasmModule[:4], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Push(t.Context(), desc, bytes.NewReader(wasmModule)); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(s.blobPath(desc.Digest)); !bytes.Equal(b, wasmModule) {
		t.Errorf("blob = %x, want %x", b, wasmModule)
	}
}

func TestPushRejectsWithoutTrace(t *testing.T) {
	good := content.NewDescriptorFromBytes("application/wasm", wasmModule)
	sha384 := good
	sha384.Digest = digest.SHA384.FromBytes(wasmModule)
	for _, tc := range []struct {
		name    string
		desc    ocispec.Descriptor
		content []byte
		opts    Options
		want    error
	}{
		{"mismatched digest", good, []byte("\x00asm\x01\x00\x00\x01"), Options{}, ErrMismatchedDigest},
		{"too short", good, wasmModule[:5], Options{}, io.ErrUnexpectedEOF},
		{"too long", good, append(slices.Clone(wasmModule), 0), Options{}, ErrTrailingData},
		{"empty but claims bytes", good, nil, Options{}, io.ErrUnexpectedEOF},
		{"sha384", sha384, wasmModule, Options{}, ErrUnsupportedAlgorithm},
		{"malformed digest", ocispec.Descriptor{Digest: "sha256:../../etc", Size: 8}, wasmModule, Options{}, ErrInvalidDigest},
		{"over MaxBlobSize", good, wasmModule, Options{MaxBlobSize: 7}, ErrSizeExceedsLimit},
		{"negative size", ocispec.Descriptor{Digest: good.Digest, Size: -1}, wasmModule, Options{}, ErrInvalidDescriptorSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, tc.opts)
			err := s.Push(t.Context(), tc.desc, bytes.NewReader(tc.content))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.Op != "push" || e.Digest != tc.desc.Digest {
				t.Errorf("err = %#v, want *Error with Op push and the digest", err)
			}
			if files := layoutFiles(t, s.Dir()); len(files) != 0 {
				t.Errorf("failed push left %v", files)
			}
		})
	}
	t.Run("context canceled mid-stream", func(t *testing.T) {
		s := newStore(t, Options{})
		ctx, cancel := context.WithCancel(t.Context())
		big := bytes.Repeat([]byte{1}, 1<<20)
		desc := content.NewDescriptorFromBytes("application/wasm", big)
		r := &cancelAfter{r: bytes.NewReader(big), n: 300 << 10, cancel: cancel}
		if err := s.Push(ctx, desc, r); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if files := layoutFiles(t, s.Dir()); len(files) != 0 {
			t.Errorf("canceled push left %v", files)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		s := newStore(t, Options{})
		ro, err := OpenReadOnly(s.Dir())
		if err != nil {
			t.Fatal(err)
		}
		if err := ro.Push(t.Context(), good, bytes.NewReader(wasmModule)); !errors.Is(err, ErrReadOnly) || !errors.Is(err, errdef.ErrUnsupported) {
			t.Errorf("err = %v, want ErrReadOnly", err)
		}
	})
}

// cancelAfter cancels its context once n bytes have been read.
type cancelAfter struct {
	r      io.Reader
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n -= n; c.n <= 0 {
		c.cancel()
	}
	return n, err
}

func TestConcurrentPushSameDigest(t *testing.T) {
	s := newStore(t, Options{})
	big := bytes.Repeat([]byte("wasm"), 256<<10)
	desc := content.NewDescriptorFromBytes("application/wasm", big)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if err := s.Push(t.Context(), desc, bytes.NewReader(big)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if b, err := content.FetchAll(t.Context(), s, desc); err != nil || !bytes.Equal(b, big) {
		t.Errorf("FetchAll: %v", err)
	}
	if files := layoutFiles(t, s.Dir()); len(files) != 1 {
		t.Errorf("layout holds %v, want one blob", files)
	}
}

func TestDelete(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{})
	manifest := pushImage(t, s, wasmModule)
	if err := s.Tag(ctx, manifest, "v1"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, manifest); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Exists(ctx, manifest); ok {
		t.Error("blob still exists")
	}
	if _, err := s.Resolve(ctx, "v1"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("tag of deleted blob: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, manifest); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
}

func TestErrorMessage(t *testing.T) {
	s := newStore(t, Options{})
	err := s.Tag(t.Context(), content.NewDescriptorFromBytes("application/wasm", wasmModule), "v1")
	msg := err.Error()
	for _, want := range []string{"ocilayout: tag", `"v1"`, "sha256:", s.Dir(), "not found"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

// Re-tagging a ref with the descriptor it already names writes nothing:
// the cache does so on every digest-pinned pull.
func TestTagUnchangedWritesNothing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	desc := content.NewDescriptorFromBytes(ocispec.MediaTypeImageManifest, data)
	if err := s.Push(ctx, desc, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, desc, "v1"); err != nil {
		t.Fatal(err)
	}
	index := filepath.Join(s.Dir(), "index.json")
	before, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Tag(ctx, desc, "v1"); err != nil {
		t.Fatal(err)
	}
	after, err := os.Stat(index)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("index.json was rewritten for a tag that did not change")
	}
	// A real change is still written.
	if err := s.Tag(ctx, desc, "v2"); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Stat(index); os.SameFile(after, again) {
		t.Error("index.json was not rewritten for a new tag")
	}
}

// An index.json the image-spec calls invalid (an entry whose media type is
// not one) is refused when read, with the rule; its valid form is read.
func TestIndexBreakingTheImageSpec(t *testing.T) {
	for _, tc := range []struct {
		mediaType string
		valid     bool
	}{{"application/vnd.oci.image.manifest.v1+json", true}, {"manifest", false}} {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
		os.WriteFile(filepath.Join(dir, "index.json"), []byte(`{"schemaVersion":2,"manifests":[{"mediaType":"`+tc.mediaType+`","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","annotations":{"org.opencontainers.image.ref.name":"v1"}}]}`), 0o644)
		s, err := OpenReadOnly(dir)
		if err == nil {
			_, err = s.loadIndex()
		}
		if tc.valid != (err == nil) || (!tc.valid && (!errors.Is(err, ErrInvalidIndex) || !errors.Is(err, artifact.ErrInvalidDocument) || !strings.Contains(err.Error(), "/manifests/0/mediaType"))) {
			t.Errorf("%s: err = %v", tc.mediaType, err)
		}
	}
}
