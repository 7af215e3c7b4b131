package access_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// The shapes under testdata/shapes, pushed byte for byte to both registry
// kinds: pull writes the module byte-identical under the name its shape
// gives it, inspect names the shape and gives every layer its role.
func TestPullShapesInTheWild(t *testing.T) {
	plugin := testkit.ReadFile(t, fixture("shapes/plugin.wasm"))
	cases := []struct {
		layout string
		shape  artifact.Shape
		file   string
		roles  []artifact.LayerRole
	}{
		{"wasme", artifact.ShapeWasme, "filter.wasm", []artifact.LayerRole{artifact.RoleConfig, artifact.RoleWasm}},
		{"istio-compat", artifact.ShapeIstioCompat, "plugin.wasm", []artifact.LayerRole{artifact.RoleWasm}},
		{"runwasi", artifact.ShapeRunwasi, "module.wasm", []artifact.LayerRole{artifact.RoleWasm}},
	}
	for _, kind := range testregistry.Kinds() {
		reg := testregistry.New(t, kind)
		for _, tc := range cases {
			t.Run(string(kind)+"/"+tc.layout, func(t *testing.T) {
				dst, _ := registryTarget(t, reg, "shapes/"+tc.layout, 5*time.Second)
				desc := testkit.PushLayout(t, dst, testkit.ShapeLayout(t, tc.layout), "v1")
				out := t.TempDir()
				p, err := access.Pull(testkit.Context(t), dst, "v1", out, access.PullOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if p.Manifest.Descriptor.Digest != desc.Digest || p.Kind != artifact.KindModule || len(p.Files) != 1 {
					t.Fatalf("pulled %s %s, %d files", p.Manifest.Descriptor.Digest, p.Kind, len(p.Files))
				}
				f := p.Files[0]
				if f.Path != filepath.Join(out, tc.file) || !bytes.Equal(testkit.ReadFile(t, f.Path), plugin) {
					t.Errorf("wrote %s, not %s byte-identical to plugin.wasm", f.Path, tc.file)
				}
				if f.Digest != digestOf(plugin).String() || f.Size != int64(len(plugin)) {
					t.Errorf("file record %+v does not describe the file", f)
				}
				if (f.LayerDigest != "") != (tc.shape == artifact.ShapeIstioCompat) {
					t.Errorf("layerDigest %q for %s", f.LayerDigest, tc.shape)
				}
				in, err := access.Inspect(testkit.Context(t), dst, "v1", access.PullOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if tc.shape == artifact.ShapeRunwasi && (in.Config.OS != "wasi" || in.Config.Architecture != "wasm") {
					t.Errorf("inspect: the image config's platform is %s/%s, want wasi/wasm", in.Config.OS, in.Config.Architecture)
				}
				if in.Shape != tc.shape || in.Kind != artifact.KindModule || len(in.Layers) != len(tc.roles) {
					t.Fatalf("inspect: shape %s, kind %s, %d layers", in.Shape, in.Kind, len(in.Layers))
				}
				for i, l := range in.Layers {
					if l.Role != tc.roles[i] {
						t.Errorf("layer %d: role %s, want %s", i, l.Role, tc.roles[i])
					}
				}
			})
		}
	}
}

// compatTar gzips a tar of the given headers, each followed by its data.
func compatTar(t *testing.T, files ...tar.Header) []byte {
	t.Helper()
	var tb bytes.Buffer
	tw := tar.NewWriter(&tb)
	for _, h := range files {
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write(bytes.Repeat([]byte{0}, int(h.Size)))
	}
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(tb.Bytes())
	zw.Close()
	return gz.Bytes()
}

// Hostile compat images: pull and inspect refuse them with
// ErrInvalidArchive and leave nothing behind.
func TestPullCompatHostile(t *testing.T) {
	reg := testregistry.Distribution(t)
	cases := []struct {
		name  string
		files []tar.Header
	}{
		{"two plugin files", []tar.Header{{Name: "plugin.wasm", Size: 8, Mode: 0o644}, {Name: "./plugin.wasm", Size: 8, Mode: 0o644}}},
		{"a symlink", []tar.Header{{Name: "plugin.wasm", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}}},
		{"a ../ path", []tar.Header{{Name: "../plugin.wasm", Size: 8, Mode: 0o644}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst, _ := registryTarget(t, reg, "hostile/"+sanitize(tc.name), 5*time.Second)
			ctx := testkit.Context(t)
			cfgBytes := []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
			cfg := content.NewDescriptorFromBytes(ocispec.MediaTypeImageConfig, cfgBytes)
			layerBytes := compatTar(t, tc.files...)
			layer := content.NewDescriptorFromBytes(ocispec.MediaTypeImageLayerGzip, layerBytes)
			for d, b := range map[*ocispec.Descriptor][]byte{&cfg: cfgBytes, &layer: layerBytes} {
				if err := dst.Push(ctx, *d, bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
			}
			m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: cfg, Layers: []ocispec.Descriptor{layer},
				Annotations: map[string]string{artifact.AnnotationWasmVariant: artifact.WasmVariantCompat}}
			m.SchemaVersion = 2
			raw, _ := json.Marshal(m)
			seedRaw(t, dst, "v1", raw)
			out := filepath.Join(t.TempDir(), "out")
			if _, err := access.Pull(ctx, dst, "v1", out, access.PullOptions{}); !errors.Is(err, artifact.ErrInvalidArchive) {
				t.Errorf("pull: %v, want ErrInvalidArchive", err)
			}
			assertNoFiles(t, out)
			if _, err := access.Inspect(ctx, dst, "v1", access.PullOptions{}); !errors.Is(err, artifact.ErrInvalidArchive) {
				t.Errorf("inspect: %v, want ErrInvalidArchive", err)
			}
		})
	}
}

// A registry that cuts a compat layer short is a short layer
// (ErrSizeMismatch), not a bad archive: the extraction's complaint about
// the truncated gzip is not what went wrong.
func TestPullCompatTruncatedByRegistry(t *testing.T) {
	reg := testregistry.Distribution(t)
	dst, _ := registryTarget(t, reg, "shapes/cut", 5*time.Second)
	testkit.PushLayout(t, dst, testkit.ShapeLayout(t, "istio-compat"), "v1")
	m, err := access.FetchManifest(testkit.Context(t), dst, "v1", 0)
	if err != nil {
		t.Fatal(err)
	}
	reg.Faults.Inject("GET", "/blobs/"+m.Layers.Wasm.Digest.String(), testregistry.Truncate(60))
	_, err = access.PullManifest(testkit.Context(t), dst, m, t.TempDir(), access.PullOptions{})
	if !errors.Is(err, artifact.ErrSizeMismatch) || errors.Is(err, artifact.ErrInvalidArchive) {
		t.Errorf("got %v, want ErrSizeMismatch alone", err)
	}
}
