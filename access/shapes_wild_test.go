package access_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
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
		{"istio-compat-docker", artifact.ShapeIstioCompat, "plugin.wasm", []artifact.LayerRole{artifact.RoleWasm}},
		{"runwasi", artifact.ShapeRunwasi, "module.wasm", []artifact.LayerRole{artifact.RoleWasm}},
		{"wasmcloud", artifact.ShapeWasmCloud, "module.wasm", []artifact.LayerRole{artifact.RoleWasm}},
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

// A Spin application as spin registry push writes it, on both registry
// kinds: inspect lists its components (id, layer digest, size, kind);
// pull writes each component as ID.wasm, byte-identical, and no data.
func TestPullSpin(t *testing.T) {
	plugin := testkit.ReadFile(t, fixture("shapes/plugin.wasm"))
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			dst, _ := registryTarget(t, reg, "shapes/spin", 5*time.Second)
			desc := testkit.PushLayout(t, dst, testkit.ShapeLayout(t, "spin"), "v1")
			in, err := access.Inspect(testkit.Context(t), dst, "v1", access.PullOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if in.Shape != artifact.ShapeSpin || len(in.Components) != 2 || in.Config.OS != "wasip1" {
				t.Fatalf("inspect: %+v", in)
			}
			for i, want := range []struct {
				id   string
				data []byte
			}{{"hello", plugin}, {"adder", tiny}} {
				c := in.Components[i]
				if c.ID != want.id || c.Source != digestOf(want.data) || c.Size != int64(len(want.data)) || c.Kind != artifact.KindModule {
					t.Errorf("component %d: %+v", i, c)
				}
			}
			var roles []artifact.LayerRole
			for _, l := range in.Layers {
				roles = append(roles, l.Role)
			}
			if fmt.Sprint(roles) != "[wasm wasm data app]" {
				t.Errorf("roles %v", roles)
			}
			out := t.TempDir()
			p, err := access.Pull(testkit.Context(t), dst, "v1", out, access.PullOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if p.Manifest.Descriptor.Digest != desc.Digest || len(p.Files) != 2 || len(p.Components) != 2 {
				t.Fatalf("pulled %+v", p)
			}
			for name, want := range map[string][]byte{"hello.wasm": plugin, "adder.wasm": tiny} {
				if !bytes.Equal(testkit.ReadFile(t, filepath.Join(out, name)), want) {
					t.Errorf("%s differs", name)
				}
			}
			if entries, _ := filepath.Glob(filepath.Join(out, "*")); len(entries) != 2 {
				t.Errorf("output dir holds %v", entries)
			}
		})
	}
}

// A Spin application whose locked application names a layer that is not
// in its manifest is refused by pull and inspect before any component is
// fetched, and pull leaves nothing behind.
func TestPullSpinLockedAppNamesMissingLayer(t *testing.T) {
	reg := testregistry.Distribution(t)
	dst, _ := registryTarget(t, reg, "shapes/spin-missing", 5*time.Second)
	ctx := testkit.Context(t)
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	missing := digestOf([]byte("a component that was never pushed"))
	locked := []byte(`{"spin_lock_version":0,"triggers":[],"components":[` +
		`{"id":"adder","source":{"content_type":"application/wasm","digest":"` + digestOf(tiny).String() + `"}},` +
		`{"id":"ghost","source":{"content_type":"application/wasm","digest":"` + missing.String() + `"}}]}`)
	desc := seed(t, dst, "v1", "", blob{mediaType: ocispec.MediaTypeImageConfig, data: []byte(`{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]}}`)},
		blob{mediaType: artifact.MediaTypeWasmContentLayer, data: tiny},
		blob{mediaType: artifact.MediaTypeSpinApp, data: locked})
	reg.Faults.ResetLog()
	out := filepath.Join(t.TempDir(), "out")
	if _, err := access.Pull(ctx, dst, desc.Digest.String(), out, access.PullOptions{}); !errors.Is(err, artifact.ErrInvalidSpinApp) {
		t.Errorf("pull: %v, want ErrInvalidSpinApp", err)
	}
	assertNoFiles(t, out)
	if n := reg.Faults.Count("GET", "/blobs/"+digestOf(tiny).String()); n != 0 {
		t.Errorf("a component was fetched %d times before the refusal", n)
	}
	if _, err := access.Inspect(ctx, dst, desc.Digest.String(), access.PullOptions{}); !errors.Is(err, artifact.ErrInvalidSpinApp) {
		t.Errorf("inspect: %v, want ErrInvalidSpinApp", err)
	}
}
