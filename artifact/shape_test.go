package artifact_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

// layoutManifest reads the manifest tagged v1 in the OCI layout under
// testdata/shapes/name.
func layoutManifest(t testing.TB, name string) (ocispec.Descriptor, []byte) {
	t.Helper()
	dir := filepath.Join("..", "testdata", "shapes", name)
	raw, err := os.ReadFile(filepath.Join(dir, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(raw, &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("index.json: %v", err)
	}
	d := idx.Manifests[0]
	m, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", d.Digest.Encoded()))
	if err != nil {
		t.Fatal(err)
	}
	return d, m
}

// The shapes other tools publish are read as wasm, each as its shape,
// and verify's subject parser says wasm too.
func TestParseManifestShapes(t *testing.T) {
	for _, tc := range []struct {
		layout  string
		shape   artifact.Shape
		archive bool
		config  bool
	}{
		{"wasme", artifact.ShapeWasme, false, true},
		{"istio-compat", artifact.ShapeIstioCompat, true, false},
		{"istio-compat-docker", artifact.ShapeIstioCompat, true, false},
		{"runwasi", artifact.ShapeRunwasi, false, false},
		{"spin", artifact.ShapeSpin, false, false},
		{"wasmcloud", artifact.ShapeWasmCloud, false, false},
	} {
		t.Run(tc.layout, func(t *testing.T) {
			desc, raw := layoutManifest(t, tc.layout)
			m, err := artifact.ParseManifest(desc, raw)
			if err != nil {
				t.Fatal(err)
			}
			if m.Shape != tc.shape || m.Layers.Archive != tc.archive || (m.Layers.Config != nil) != tc.config || len(m.Layers.Unknown) != 0 {
				t.Errorf("shape %s, archive %v, config layer %v, %d unknown", m.Shape, m.Layers.Archive, m.Layers.Config, len(m.Layers.Unknown))
			}
			s, err := artifact.ParseSubject(desc, raw)
			if tc.layout == "istio-compat-docker" {
				// No annotation: an image, wasm to a caller that expects it.
				if err != nil || s.Kind != artifact.SubjectImage || s.Compat == nil || s.AsWasm().Wasm.Shape != tc.shape {
					t.Errorf("subject: %v, %v", s, err)
				}
				return
			}
			if err != nil || s.Kind != artifact.SubjectWasm {
				t.Errorf("subject: %v, %v", s, err)
			}
		})
	}
}

func TestParseManifestShapeRefusals(t *testing.T) {
	layer := func(mt string, b string) ocispec.Descriptor {
		return ocispec.Descriptor{MediaType: mt, Digest: digest.FromString(b), Size: int64(len(b))}
	}
	imageConfig := layer(ocispec.MediaTypeImageConfig, `{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}`)
	compat := map[string]string{artifact.AnnotationWasmVariant: artifact.WasmVariantCompat}
	wasmeConfig := layer(artifact.MediaTypeWasmeConfig, `{"type":"envoy_proxy"}`)
	for _, tc := range []struct {
		name    string
		m       ocispec.Manifest
		want    error
		subject artifact.SubjectKind // for a manifest ParseSubject accepts
	}{
		{"compat with two layers", ocispec.Manifest{Config: imageConfig, Annotations: compat,
			Layers: []ocispec.Descriptor{layer(ocispec.MediaTypeImageLayerGzip, "a"), layer(ocispec.MediaTypeImageLayerGzip, "b")}}, artifact.ErrNoWasmLayer, ""},
		{"compat with an uncompressed layer", ocispec.Manifest{Config: imageConfig, Annotations: compat,
			Layers: []ocispec.Descriptor{layer(ocispec.MediaTypeImageLayer, "a")}}, artifact.ErrNoWasmLayer, ""},
		{"a container image without the annotation", ocispec.Manifest{Config: imageConfig,
			Layers: []ocispec.Descriptor{layer(ocispec.MediaTypeImageLayerGzip, "a")}}, artifact.ErrNoWasmLayer, artifact.SubjectImage},
		{"wasme config layer that is not the config", ocispec.Manifest{Config: wasmeConfig,
			Layers: []ocispec.Descriptor{layer(artifact.MediaTypeWasmeConfig, "other"), layer(artifact.MediaTypeWasmeLayer, "w")}}, artifact.ErrInvalidManifest, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.m.SchemaVersion = 2
			tc.m.MediaType = ocispec.MediaTypeImageManifest
			raw, err := json.Marshal(tc.m)
			if err != nil {
				t.Fatal(err)
			}
			desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
			if _, err := artifact.ParseManifest(desc, raw); !errors.Is(err, tc.want) {
				t.Errorf("ParseManifest: %v, want %v", err, tc.want)
			}
			s, err := artifact.ParseSubject(desc, raw)
			switch {
			case tc.subject == "" && err == nil:
				t.Errorf("ParseSubject took a broken wasm shape as %s", s.Kind)
			case tc.subject != "" && (err != nil || s.Kind != tc.subject):
				t.Errorf("ParseSubject: %v, want %s", err, tc.subject)
			}
		})
	}
}
