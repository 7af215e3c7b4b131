package access_test

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// Artifacts pushed by other tools, in the shapes they really write, pull
// and inspect correctly.
func TestPullOtherPublishersShapes(t *testing.T) {
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	component := testkit.ReadFile(t, fixture("wasm/component.wasm"))
	policy := sample.PolicyYAML()
	cases := []struct {
		name         string
		artifactType string
		config       blob
		layers       []blob
		kind         artifact.Kind
		wantPolicy   bool
		wantUnknown  int
		opts         access.PullOptions
	}{
		{
			// FORMATS.md, last row: `oras push` of a wasm artifact.
			name:   "oras push",
			config: blob{mediaType: artifact.MediaTypeConfig, data: []byte(`{"architecture":"wasm","os":"wasip1","layerDigests":["` + digestOf(tiny).String() + `","` + digestOf(policy).String() + `"]}`)},
			layers: []blob{
				{mediaType: artifact.MediaTypeWasm, data: tiny, title: "tiny.wasm"},
				{mediaType: artifact.MediaTypePolicy, data: policy, title: "policy.yaml"},
			},
			kind: artifact.KindModule, wantPolicy: true,
		},
		{
			name:   "single layer",
			config: wasmConfig,
			layers: []blob{{mediaType: artifact.MediaTypeWasm, data: tiny}},
			kind:   artifact.KindModule,
		},
		{
			// wasm-to-oci (engineerd/wasm-to-oci): a config of {} typed
			// application/vnd.wasm.config.v1+json, the raw wasm layer type.
			name:   "wasm-to-oci",
			config: blob{mediaType: artifact.MediaTypeConfigV1, data: []byte(`{}`)},
			layers: []blob{{mediaType: artifact.MediaTypeWasmContentLayer, data: tiny}},
			kind:   artifact.KindModule,
		},
		{
			name:         "artifactType only",
			artifactType: artifact.MediaTypeWasm,
			config:       blob{mediaType: ocispec.MediaTypeEmptyJSON, data: []byte(`{}`)},
			layers:       []blob{{mediaType: artifact.MediaTypeComponentV1, data: component}},
			kind:         artifact.KindComponent,
		},
		{
			name:   "wkg component, config v1, Wassette policy type",
			config: blob{mediaType: artifact.MediaTypeConfigV1, data: []byte(`{"architecture":"wasm","os":"wasip2","component":{"exports":["add"]}}`)},
			layers: []blob{
				{mediaType: artifact.MediaTypeBytecodeAllianceLayer, data: component},
				{mediaType: artifact.MediaTypeWassettePolicy, data: policy},
			},
			kind: artifact.KindComponent, wantPolicy: true,
		},
		{
			name:   "unknown extra layer, allowed, is reported, not written",
			config: wasmConfig,
			layers: []blob{
				{mediaType: artifact.MediaTypeWasm, data: tiny},
				{mediaType: "application/spdx+json", data: []byte(`{"spdxVersion":"SPDX-2.3"}`), title: "sbom.json"},
			},
			kind: artifact.KindModule, wantUnknown: 1, opts: access.PullOptions{AllowUnknownLayers: true},
		},
	}
	reg := testregistry.Distribution(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dst, _ := registryTarget(t, reg, "shapes/"+sanitize(tc.name), 5*time.Second)
			desc := seed(t, dst, "v1", tc.artifactType, tc.config, tc.layers...)
			out := t.TempDir()
			p, err := access.Pull(testkit.Context(t), dst, "v1", out, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if p.Manifest.Descriptor.Digest != desc.Digest || p.Kind != tc.kind {
				t.Errorf("got %s %s, want %s %s", p.Manifest.Descriptor.Digest, p.Kind, desc.Digest, tc.kind)
			}
			if !bytes.Equal(testkit.ReadFile(t, p.Files[0].Path), tc.layers[0].data) {
				t.Error("wasm bytes differ")
			}
			if (p.Policy != nil) != tc.wantPolicy {
				t.Errorf("policy parsed: %v, want %v", p.Policy != nil, tc.wantPolicy)
			}
			if len(p.Manifest.Layers.Unknown) != tc.wantUnknown {
				t.Errorf("%d unknown layers, want %d", len(p.Manifest.Layers.Unknown), tc.wantUnknown)
			}
			wantFiles := 1
			if tc.wantPolicy {
				wantFiles = 2
			}
			if entries, _ := filepath.Glob(filepath.Join(out, "*")); len(entries) != wantFiles {
				t.Errorf("output dir holds %v, want %d files", entries, wantFiles)
			}
			in, err := access.Inspect(testkit.Context(t), dst, "v1", access.PullOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if in.Kind != tc.kind || len(in.Layers) != len(tc.layers) || (in.Policy != nil) != tc.wantPolicy {
				t.Errorf("inspect: kind %s, %d layers, policy %v", in.Kind, len(in.Layers), in.Policy != nil)
			}
		})
	}
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			b[i] = '-'
		}
	}
	return string(b)
}
