package ocilayout

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry"
)

func tagsOf(t *testing.T, s *Store) []string {
	t.Helper()
	tags, err := registry.Tags(t.Context(), s)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func TestTagNames(t *testing.T) {
	for _, tc := range []struct {
		ref         string
		strict, any error // nil: accepted
	}{
		{"v1", nil, nil},
		{"_latest.1-rc", nil, nil},
		{strings.Repeat("a", 128), nil, nil},
		{strings.Repeat("a", 129), ErrInvalidReference, nil},
		{"", ErrMissingReference, ErrMissingReference},
		{".hidden", ErrInvalidReference, nil},
		{"-flag", ErrInvalidReference, nil},
		{"registry.example/repo:v1", ErrInvalidReference, nil},
		{"registry.example/repo@sha256:" + strings.Repeat("0", 64), ErrInvalidReference, nil},
		{"sha256:" + strings.Repeat("0", 64), ErrInvalidReference, ErrInvalidReference},
		{"has space", ErrInvalidReference, ErrInvalidReference},
		{"ctl\x00", ErrInvalidReference, ErrInvalidReference},
		{"bad\xffutf8", ErrInvalidReference, ErrInvalidReference},
		{strings.Repeat("r", maxRefNameLen+1), ErrInvalidReference, ErrInvalidReference},
	} {
		t.Run(fmt.Sprintf("%.40q", tc.ref), func(t *testing.T) {
			for _, c := range []struct {
				opts Options
				want error
			}{{Options{}, tc.strict}, {Options{AllowAnyRefName: true}, tc.any}} {
				s := newStore(t, c.opts)
				desc := push(t, s, "application/wasm", wasmModule)
				err := s.Tag(t.Context(), desc, tc.ref)
				if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
					t.Errorf("AllowAnyRefName=%v: err = %v, want %v", c.opts.AllowAnyRefName, err, c.want)
				}
				if err == nil {
					if got, err := s.Resolve(t.Context(), tc.ref); err != nil || got.Digest != desc.Digest {
						t.Errorf("Resolve = %v, %v", got.Digest, err)
					}
				}
			}
		})
	}
}

func TestTagChecksBlob(t *testing.T) {
	s := newStore(t, Options{})
	desc := push(t, s, "application/wasm", wasmModule)
	absent := content.NewDescriptorFromBytes("application/wasm", []byte("absent"))
	if err := s.Tag(t.Context(), absent, "v1"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("tag absent blob: err = %v, want ErrNotFound", err)
	}
	wrongSize := desc
	wrongSize.Size++
	if err := s.Tag(t.Context(), wrongSize, "v1"); !errors.Is(err, ErrInvalidDescriptorSize) {
		t.Errorf("tag with wrong size: err = %v, want ErrInvalidDescriptorSize", err)
	}
	if tags := tagsOf(t, s); len(tags) != 0 {
		t.Errorf("failed tags were recorded: %v", tags)
	}
}

func TestRetagReplaces(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{})
	a := pushImage(t, s, wasmModule)
	b := pushImage(t, s, []byte("another module"))
	for _, step := range []struct {
		desc ocispec.Descriptor
		tag  string
	}{{a, "v1"}, {a, "latest"}, {b, "v2"}, {b, "latest"}} {
		if err := s.Tag(ctx, step.desc, step.tag); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := tagsOf(t, s), []string{"latest", "v1", "v2"}; !slices.Equal(got, want) {
		t.Errorf("tags = %v, want %v", got, want)
	}
	if got, _ := s.Resolve(ctx, "latest"); got.Digest != b.Digest {
		t.Errorf("latest = %s, want %s", got.Digest, b.Digest)
	}
	ms, err := s.Manifests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Errorf("index has %d entries, want one per tag: %v", len(ms), ms)
	}
	if ms[1].Digest != b.Digest || refName(ms[1]) != "latest" {
		t.Errorf("re-tag did not keep the entry's place: %v", ms)
	}

	if err := s.Untag(ctx, "latest"); err != nil {
		t.Fatal(err)
	}
	if err := s.Untag(ctx, "latest"); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("second Untag: err = %v, want ErrNotFound", err)
	}
	if err := s.Untag(ctx, string(a.Digest)); !errors.Is(err, errdef.ErrInvalidReference) {
		t.Errorf("Untag(digest): err = %v, want ErrInvalidReference", err)
	}
	if ok, _ := s.Exists(ctx, b); !ok {
		t.Error("Untag removed the blob")
	}
	var page []string
	if err := s.Tags(ctx, "v1", func(tags []string) error { page = tags; return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(page, []string{"v2"}) {
		t.Errorf("Tags after v1 = %v, want [v2]", page)
	}
}

func TestResolveDigest(t *testing.T) {
	ctx := t.Context()
	s := newStore(t, Options{})
	manifest := pushImage(t, s, wasmModule)
	indexJSON, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, Manifests: []ocispec.Descriptor{manifest}})
	index := push(t, s, ocispec.MediaTypeImageIndex, indexJSON)
	layer := content.NewDescriptorFromBytes("application/wasm", wasmModule)
	tagged := push(t, s, "application/vnd.example+json", []byte(`{"schemaVersion":2,"mediaType":"ignored/when-indexed"}`))
	if err := s.Tag(ctx, tagged, "t"); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		desc ocispec.Descriptor
		want string
	}{
		{"manifest, from its mediaType", manifest, ocispec.MediaTypeImageManifest},
		{"index without mediaType, by shape", index, ocispec.MediaTypeImageIndex},
		{"not a manifest", layer, "application/octet-stream"},
		{"in index.json", tagged, "application/vnd.example+json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.Resolve(ctx, string(tc.desc.Digest))
			if err != nil {
				t.Fatal(err)
			}
			want := ocispec.Descriptor{MediaType: tc.want, Digest: tc.desc.Digest, Size: tc.desc.Size}
			if got.MediaType != want.MediaType || got.Digest != want.Digest || got.Size != want.Size || got.Annotations != nil {
				t.Errorf("Resolve = %+v, want %+v", got, want)
			}
		})
	}
	t.Run("absent", func(t *testing.T) {
		d := content.NewDescriptorFromBytes("", []byte("absent")).Digest
		if _, err := s.Resolve(ctx, string(d)); !errors.Is(err, errdef.ErrNotFound) {
			t.Errorf("err = %v, want ErrNotFound", err)
		}
	})
	t.Run("corrupt", func(t *testing.T) {
		if err := os.WriteFile(s.blobPath(manifest.Digest), bytes.Repeat([]byte{'x'}, int(manifest.Size)), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(ctx, string(manifest.Digest)); !errors.Is(err, ErrMismatchedDigest) {
			t.Errorf("err = %v, want ErrMismatchedDigest", err)
		}
	})
}

func TestIndexBounds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		index []byte
		want  error
	}{
		{"too large", append([]byte(`{"schemaVersion":2,"manifests":[]`), bytes.Repeat([]byte(" "), MaxIndexSize)...), ErrSizeExceedsLimit},
		{"not JSON", []byte(`{"schemaVersion":2,`), ErrInvalidIndex},
		{"schemaVersion 1", []byte(`{"schemaVersion":1,"manifests":[]}`), ErrInvalidIndex},
		{"manifest as index", []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}`), ErrInvalidIndex},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStore(t, Options{})
			if err := os.WriteFile(filepath.Join(s.Dir(), "index.json"), tc.index, 0o644); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Resolve(t.Context(), "v1"); !errors.Is(err, tc.want) {
				t.Errorf("Resolve: err = %v, want %v", err, tc.want)
			}
			desc := push(t, s, "application/wasm", wasmModule)
			if err := s.Tag(t.Context(), desc, "v1"); !errors.Is(err, tc.want) {
				t.Errorf("Tag: err = %v, want %v", err, tc.want)
			}
			if b, _ := os.ReadFile(filepath.Join(s.Dir(), "index.json")); !bytes.Equal(b, tc.index) {
				t.Error("Tag rewrote an index.json it could not read")
			}
			if _, err := OpenReadOnly(s.Dir()); !errors.Is(err, tc.want) {
				t.Errorf("OpenReadOnly: err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestConcurrentTagGoroutines(t *testing.T) {
	s := newStore(t, Options{})
	desc := pushImage(t, s, wasmModule)
	var wg sync.WaitGroup
	var want []string
	for g := range 8 {
		for i := range 10 {
			want = append(want, fmt.Sprintf("g%d-%d", g, i))
		}
		wg.Go(func() {
			for i := range 10 {
				if err := s.Tag(t.Context(), desc, fmt.Sprintf("g%d-%d", g, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	slices.Sort(want)
	if got := tagsOf(t, s); !slices.Equal(got, want) {
		t.Errorf("got %d tags, want %d: lost %v", len(got), len(want), missingFrom(got, want))
	}
}

func missingFrom(got, want []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

const (
	helperEnvDir = "WASMGATE_OCILAYOUT_HELPER_DIR"
	helperEnvID  = "WASMGATE_OCILAYOUT_HELPER_ID"
	helperTags   = 50
)

// TestHelperProcess is one of the processes TestTwoProcessesTag starts; run
// on its own it does nothing.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperEnvDir)
	if dir == "" {
		t.Skip("helper process for TestTwoProcessesTag")
	}
	id := os.Getenv(helperEnvID)
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Both processes push the same image, racing on the same blob paths.
	desc := pushImage(t, s, wasmModule)
	for i := range helperTags {
		if err := s.Tag(t.Context(), desc, "p"+id+"-"+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTwoProcessesTag(t *testing.T) {
	if os.Getenv(helperEnvDir) != "" {
		t.Skip("in a helper process")
	}
	// The layout does not exist yet: the processes also race to create it.
	dir := filepath.Join(t.TempDir(), "shared")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for _, id := range []string{"a", "b"} {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnvDir+"="+dir, helperEnvID+"="+id)
		out := new(bytes.Buffer)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, outs[i])
		}
	}

	b, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatalf("index.json is not valid JSON: %v", err)
	}
	if idx.SchemaVersion != 2 || idx.MediaType != ocispec.MediaTypeImageIndex {
		t.Errorf("index.json header = %d %q", idx.SchemaVersion, idx.MediaType)
	}
	var want []string
	for _, id := range []string{"a", "b"} {
		for i := range helperTags {
			want = append(want, "p"+id+"-"+strconv.Itoa(i))
		}
	}
	slices.Sort(want)
	s, err := OpenReadOnly(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := tagsOf(t, s); !slices.Equal(got, want) {
		t.Errorf("got %d tags, want %d: lost %v", len(got), len(want), missingFrom(got, want))
	}
	if len(idx.Manifests) != len(want) {
		t.Errorf("index.json has %d entries, want %d", len(idx.Manifests), len(want))
	}
	if files := layoutFiles(t, dir); len(files) != 3 {
		t.Errorf("layout holds %v, want three blobs and no temporaries", files)
	}
}
