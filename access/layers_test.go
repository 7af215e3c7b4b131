package access_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// A pull takes one wasm layer, at most one policy layer, and other layers
// only when told to; a manifest with more than MaxLayers is refused before
// any blob is fetched, whatever they are.
func ExampleCheckLayers() {
	wasm := ocispec.Descriptor{MediaType: artifact.MediaTypeWasm, Digest: digestOf([]byte("wasm")), Size: 4}
	sbom := ocispec.Descriptor{MediaType: "application/spdx+json", Digest: digestOf([]byte("sbom")), Size: 4}

	err := access.CheckLayers([]ocispec.Descriptor{wasm, sbom}, access.PullOptions{})
	fmt.Println(errors.Is(err, access.ErrUnknownLayers))
	fmt.Println(access.CheckLayers([]ocispec.Descriptor{wasm, sbom}, access.PullOptions{AllowUnknownLayers: true}))
	err = access.CheckLayers([]ocispec.Descriptor{wasm, sbom, sbom}, access.PullOptions{AllowUnknownLayers: true, MaxLayers: 2})
	fmt.Println(errors.Is(err, access.ErrTooManyLayers))
	// Output:
	// true
	// <nil>
	// true
}

func TestCheckLayers(t *testing.T) {
	wasm := ocispec.Descriptor{MediaType: artifact.MediaTypeWasm, Digest: digestOf([]byte("w")), Size: 1}
	policy := ocispec.Descriptor{MediaType: artifact.MediaTypePolicy, Digest: digestOf([]byte("p")), Size: 1}
	sbom := ocispec.Descriptor{MediaType: "application/spdx+json", Digest: digestOf([]byte("s")), Size: 1}
	many := func(n int) []ocispec.Descriptor {
		out := []ocispec.Descriptor{wasm}
		for len(out) < n {
			out = append(out, sbom)
		}
		return out
	}
	cases := []struct {
		name   string
		layers []ocispec.Descriptor
		opts   access.PullOptions
		want   error
	}{
		{"wasm", []ocispec.Descriptor{wasm}, access.PullOptions{}, nil},
		{"wasm and policy", []ocispec.Descriptor{wasm, policy}, access.PullOptions{}, nil},
		{"an unknown layer", []ocispec.Descriptor{wasm, policy, sbom}, access.PullOptions{}, access.ErrUnknownLayers},
		{"an unknown layer allowed", []ocispec.Descriptor{wasm, policy, sbom}, access.PullOptions{AllowUnknownLayers: true}, nil},
		{"the default bound, allowed", many(access.DefaultMaxLayers), access.PullOptions{AllowUnknownLayers: true}, nil},
		{"one past the default bound", many(access.DefaultMaxLayers + 1), access.PullOptions{AllowUnknownLayers: true}, access.ErrTooManyLayers},
		{"too many is said before unknown", many(10000), access.PullOptions{}, access.ErrTooManyLayers},
		{"a lower bound", []ocispec.Descriptor{wasm, policy}, access.PullOptions{MaxLayers: 1}, access.ErrTooManyLayers},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := access.CheckLayers(tc.layers, tc.opts)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("CheckLayers = %v, want %v", err, tc.want)
			}
		})
	}
}

// pushFiller stores a manifest whose layers are the wasm layer and n
// copies of one filler layer of an unknown type, and tags it v1.
func pushFiller(t *testing.T, dst oras.Target, n int) ocispec.Descriptor {
	t.Helper()
	ctx := testkit.Context(t)
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	push := func(mediaType string, data []byte) ocispec.Descriptor {
		d, err := oras.PushBytes(ctx, dst, mediaType, data)
		if err != nil {
			t.Fatalf("push %s: %v", mediaType, err)
		}
		return d
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: push(wasmConfig.mediaType, wasmConfig.data)}
	m.SchemaVersion = 2
	m.Layers = append(m.Layers, push(artifact.MediaTypeWasm, tiny))
	filler := push("application/octet-stream", []byte("filler"))
	for range n {
		m.Layers = append(m.Layers, filler)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return seedRaw(t, dst, "v1", raw)
}

// Regression: pull took a manifest with 10,000 filler layers, exit 0. The
// count is refused with the manifest alone: not one blob is asked for.
func TestPullTooManyLayersFetchesNoBlob(t *testing.T) {
	for _, kind := range testregistry.Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := testregistry.New(t, kind)
			dst, _ := registryTarget(t, reg, "filler/layers", 30*time.Second)
			pushFiller(t, dst, 10000)
			reg.Faults.ResetLog()
			out := t.TempDir() + "/out"
			_, err := access.Pull(testkit.Context(t), dst, "v1", out, access.PullOptions{AllowUnknownLayers: true})
			if !errors.Is(err, access.ErrTooManyLayers) {
				t.Fatalf("err = %v, want ErrTooManyLayers", err)
			}
			if n := reg.Faults.Count("", "/blobs/"); n != 0 {
				t.Errorf("%d blob requests before the refusal: %+v", n, reg.Faults.Requests())
			}
			if n := reg.Faults.Count("GET", "/manifests/"); n != 1 {
				t.Errorf("%d manifest GETs, want 1", n)
			}
			assertNoFiles(t, out)
		})
	}
}

// Regression: pull took a manifest with an unknown extra layer, exit 0,
// where verify refuses it by default. Refused unless allowed, before any
// blob; allowed, the layer is skipped and never fetched.
func TestPullUnknownLayerRefusedUnlessAllowed(t *testing.T) {
	reg := testregistry.Distribution(t)
	dst, _ := registryTarget(t, reg, "unknown/layer", 5*time.Second)
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	sbom := blob{mediaType: "application/spdx+json", data: []byte(`{"spdxVersion":"SPDX-2.3"}`), title: "sbom.json"}
	seed(t, dst, "v1", "", wasmConfig, blob{mediaType: artifact.MediaTypeWasm, data: tiny}, sbom)
	sbomPath := "/blobs/" + digestOf(sbom.data).String()

	reg.Faults.ResetLog()
	out := t.TempDir() + "/out"
	_, err := access.Pull(testkit.Context(t), dst, "v1", out, access.PullOptions{})
	if !errors.Is(err, access.ErrUnknownLayers) {
		t.Fatalf("err = %v, want ErrUnknownLayers", err)
	}
	if n := reg.Faults.Count("", "/blobs/"); n != 0 {
		t.Errorf("%d blob requests before the refusal", n)
	}
	assertNoFiles(t, out)

	p, err := access.Pull(testkit.Context(t), dst, "v1", out, access.PullOptions{AllowUnknownLayers: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Files) != 1 || len(p.Manifest.Layers.Unknown) != 1 {
		t.Errorf("files %+v, unknown %d; want the wasm file and one unknown layer", p.Files, len(p.Manifest.Layers.Unknown))
	}
	if n := reg.Faults.Count("", sbomPath); n != 0 {
		t.Errorf("the unknown layer was fetched %d times", n)
	}
}
