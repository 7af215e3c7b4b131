package artifact_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

// spinFixture is the Spin app of testdata/shapes/spin: its manifest,
// classified, and its locked application's bytes.
func spinFixture(t testing.TB) (*artifact.Manifest, []byte) {
	t.Helper()
	desc, raw := layoutManifest(t, "spin")
	m, err := artifact.ParseManifest(desc, raw)
	if err != nil {
		t.Fatal(err)
	}
	locked, err := os.ReadFile(filepath.Join("..", "testdata", "shapes", "spin", "blobs", "sha256", m.Layers.LockedApp.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	return m, locked
}

func TestSpinLockedApp(t *testing.T) {
	m, locked := spinFixture(t)
	if len(m.Layers.Components) != 2 || len(m.Layers.Data) != 1 || m.Layers.Wasm.Digest != "" || len(m.Layers.Unknown) != 0 {
		t.Fatalf("layers: %+v", m.Layers)
	}
	app, err := artifact.ParseLockedApp(locked)
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Check(m.Layers); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(app.IDs(), ","); got != "hello,adder" {
		t.Errorf("components %s", got)
	}
	if c, ok := app.Component("hello"); !ok || c.Source != m.Layers.Components[0].Digest || c.Size != m.Layers.Components[0].Size {
		t.Errorf("hello: %+v", c)
	}

	other := "sha256:" + strings.Repeat("ab", 32)
	for _, tc := range []struct {
		name string
		edit func(string) string
	}{
		{"names a layer not in the manifest", func(s string) string {
			return strings.Replace(s, m.Layers.Components[1].Digest.String(), other, 1)
		}},
		{"a file that is no layer", func(s string) string { return strings.Replace(s, m.Layers.Data[0].Digest.String(), other, 1) }},
		{"a source by URL", func(s string) string {
			return strings.Replace(s, `"digest":"`+m.Layers.Components[0].Digest.String()+`"`, `"source":"file:///etc/hello.wasm"`, 1)
		}},
		{"a duplicate id", func(s string) string { return strings.Replace(s, `"id":"adder"`, `"id":"hello"`, 1) }},
		{"an id that is a path", func(s string) string { return strings.Replace(s, `"id":"adder"`, `"id":"../adder"`, 1) }},
		{"no version", func(s string) string { return strings.Replace(s, `"spin_lock_version":0,`, ``, 1) }},
		{"trailing data", func(s string) string { return s + `{}` }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			app, err := artifact.ParseLockedApp([]byte(tc.edit(string(locked))))
			if err == nil {
				err = app.Check(m.Layers)
			}
			if !errors.Is(err, artifact.ErrInvalidSpinApp) {
				t.Errorf("got %v, want ErrInvalidSpinApp", err)
			}
		})
	}
	t.Run("a wasm layer no component names", func(t *testing.T) {
		app, err := artifact.ParseLockedApp(locked)
		if err != nil {
			t.Fatal(err)
		}
		app.Components = app.Components[:1]
		if err := app.Check(m.Layers); !errors.Is(err, artifact.ErrInvalidSpinApp) {
			t.Errorf("got %v, want ErrInvalidSpinApp", err)
		}
	})
}

// FuzzParseLockedApp: any bytes either parse into 1 to MaxSpinComponents
// components with unique, path-safe ids and valid digests, or fail with
// ErrInvalidSpinApp; never a panic.
func FuzzParseLockedApp(f *testing.F) {
	_, locked := spinFixture(f)
	f.Add(locked)
	f.Add([]byte(`{"spin_lock_version":1,"triggers":[],"components":[{"id":"a","source":{"content_type":"application/wasm","digest":"sha256:00"}}]}`))
	f.Add([]byte(`{"spin_lock_version":0,"components":[{"id":"a","source":{"inline":"AGFzbQ=="}}]}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		app, err := artifact.ParseLockedApp(raw)
		if err != nil {
			if !errors.Is(err, artifact.ErrInvalidSpinApp) {
				t.Fatalf("error without the sentinel: %v", err)
			}
			return
		}
		if len(app.Components) == 0 || len(app.Components) > artifact.MaxSpinComponents {
			t.Fatalf("%d components", len(app.Components))
		}
		seen := map[string]bool{}
		for _, c := range app.Components {
			if seen[c.ID] || c.ID == "" || strings.ContainsAny(c.ID, "/\\.") || c.Source.Validate() != nil {
				t.Fatalf("component %+v", c)
			}
			seen[c.ID] = true
		}
	})
}

// Spin 1.x pushed the locked application as the config: such a manifest
// is a Spin application of one component, whose Wasm is set.
func TestSpinLockedAppAsConfig(t *testing.T) {
	wasm := ocispec.Descriptor{MediaType: artifact.MediaTypeWasmContentLayer, Digest: digest.FromString("w"), Size: 1}
	m := ocispec.Manifest{Config: ocispec.Descriptor{MediaType: artifact.MediaTypeSpinApp, Digest: digest.FromString("c"), Size: 1},
		Layers: []ocispec.Descriptor{wasm, {MediaType: artifact.MediaTypeSpinData, Digest: digest.FromString("d"), Size: 1}}}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	pm, err := artifact.ParseManifest(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}, raw)
	if err != nil {
		t.Fatal(err)
	}
	if pm.Shape != artifact.ShapeSpin || pm.Layers.LockedApp != nil || pm.Layers.Wasm.Digest != wasm.Digest || len(pm.Layers.Data) != 1 {
		t.Errorf("%s %+v", pm.Shape, pm.Layers)
	}
}

// Every layer of a Spin application is a request verify makes: a manifest
// of more than MaxSpinLayers is refused before any.
func TestSpinTooManyLayers(t *testing.T) {
	wasm := ocispec.Descriptor{MediaType: artifact.MediaTypeWasmContentLayer, Digest: digest.FromString("w"), Size: 1}
	m := ocispec.Manifest{Config: ocispec.Descriptor{MediaType: artifact.MediaTypeSpinApp, Digest: digest.FromString("c"), Size: 1}, Layers: []ocispec.Descriptor{wasm}}
	for i := range artifact.MaxSpinLayers {
		m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: artifact.MediaTypeSpinData, Digest: digest.FromString(fmt.Sprint(i)), Size: 1})
	}
	m.SchemaVersion = 2
	raw, _ := json.Marshal(m)
	_, err := artifact.ParseManifest(ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}, raw)
	if !errors.Is(err, artifact.ErrInvalidSpinApp) {
		t.Errorf("got %v, want ErrInvalidSpinApp", err)
	}
}
