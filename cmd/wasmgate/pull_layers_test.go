package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// pushShape stores, under tag, a manifest with the sample's wasm and
// policy layers and then extra, each pushed once however often it is
// listed, the way another publisher could.
func pushShape(t *testing.T, reg *testregistry.Registry, repo, tag string, extra ...ocispec.Descriptor) {
	t.Helper()
	ctx := testkit.Context(t)
	dst := testkit.Open(t, reg, reg.Ref(repo, tag), remote.Options{}).Target
	push := func(mediaType string, data []byte) ocispec.Descriptor {
		d, err := oras.PushBytes(ctx, dst, mediaType, data)
		if err != nil {
			t.Fatalf("push %s: %v", mediaType, err)
		}
		return d
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest,
		Config: push(artifact.MediaTypeConfig, []byte(`{"architecture":"wasm","os":"wasip1"}`)),
		Layers: []ocispec.Descriptor{push(artifact.MediaTypeWasm, sample.HelloWasm()), push(artifact.MediaTypePolicy, sample.PolicyYAML())}}
	m.SchemaVersion = 2
	pushed := map[string]bool{}
	for _, d := range extra {
		if !pushed[d.Digest.String()] {
			push(d.MediaType, []byte(d.Annotations["data"]))
			pushed[d.Digest.String()] = true
		}
		d.Annotations = nil
		m.Layers = append(m.Layers, d)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := oras.TagBytes(ctx, dst, ocispec.MediaTypeImageManifest, raw, tag); err != nil {
		t.Fatalf("push manifest: %v", err)
	}
}

// extraLayer is a layer of an unknown type holding data.
func extraLayer(mediaType, data string) ocispec.Descriptor {
	d := ocispec.Descriptor{MediaType: mediaType, Digest: digest.FromString(data), Size: int64(len(data))}
	d.Annotations = map[string]string{"data": data}
	return d
}

// Regression: `wasmgate pull` of a manifest with 10,000 filler layers
// exited 0. The layer count is refused with the manifest alone: no blob
// is asked for, nothing is written, with or without
// --allow-unknown-layers. inspect still shows it, and says why pull
// refuses it.
func TestPullRefusesTenThousandLayers(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	filler := extraLayer("application/octet-stream", "filler")
	layers := make([]ocispec.Descriptor, 10000)
	for i := range layers {
		layers[i] = filler
	}
	pushShape(t, reg, "wasm/filler", "v1", layers...)
	ref := reg.Ref("wasm/filler", "v1")
	for _, extra := range [][]string{nil, {"--allow-unknown-layers"}} {
		reg.Faults.ResetLog()
		out := t.TempDir() + "/out"
		code, _, stderr := wasmgate(t, append([]string{"pull", ref, "-o", out}, extra...)...)
		if code != exitError || !strings.Contains(stderr, "lists 10002 layers, more than 16") {
			t.Errorf("pull %v: exit %d: %s", extra, code, stderr)
		}
		if n := reg.Faults.Count("", "/blobs/"); n != 0 {
			t.Errorf("pull %v: %d blob requests before the refusal", extra, n)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("pull %v left %s behind", extra, out)
		}
	}
	code, stdout, stderr := wasmgate(t, "inspect", ref, "--output", "json")
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, stderr)
	}
	var in struct {
		Layers      []json.RawMessage `json:"layers"`
		PullRefused string            `json:"pullRefused"`
	}
	if err := json.Unmarshal([]byte(stdout), &in); err != nil {
		t.Fatal(err)
	}
	if len(in.Layers) != 10002 || !strings.Contains(in.PullRefused, access.ErrTooManyLayers.Error()) {
		t.Errorf("inspect json: %d layers, pullRefused %q", len(in.Layers), in.PullRefused)
	}
}

// Regression: `wasmgate pull` of an artifact with an unknown extra layer
// exited 0 where verify refuses it by default. Refused, naming
// --allow-unknown-layers; with it, pulled and the layer skipped, never
// fetched. inspect shows it and says pull would refuse it.
func TestPullUnknownLayerNeedsAllowUnknownLayers(t *testing.T) {
	reg := testregistry.Distribution(t)
	cliEnv(t, reg)
	sbom := extraLayer("application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	pushShape(t, reg, "wasm/sbom", "v1", sbom)
	ref := reg.Ref("wasm/sbom", "v1")

	reg.Faults.ResetLog()
	out := t.TempDir() + "/out"
	code, _, stderr := wasmgate(t, "pull", ref, "-o", out)
	if code != exitError || !strings.Contains(stderr, "application/spdx+json") || !strings.Contains(stderr, "--allow-unknown-layers") {
		t.Errorf("pull: exit %d: %s", code, stderr)
	}
	if n := reg.Faults.Count("", "/blobs/"); n != 0 {
		t.Errorf("%d blob requests before the refusal", n)
	}

	code, stdout, stderr := wasmgate(t, "pull", ref, "-o", out, "--allow-unknown-layers")
	if code != 0 || !strings.Contains(stdout, "skipped unknown layer application/spdx+json") {
		t.Fatalf("pull --allow-unknown-layers: exit %d: %s%s", code, stdout, stderr)
	}
	if n := reg.Faults.Count("", "/blobs/"+sbom.Digest.String()); n != 0 {
		t.Errorf("the unknown layer was fetched %d times", n)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 2 {
		t.Errorf("wrote %d files, want the wasm and the policy", len(entries))
	}

	code, stdout, _ = wasmgate(t, "inspect", ref)
	if code != 0 || !strings.Contains(stdout, "Pull:          refused: ") || !strings.Contains(stdout, "pull --allow-unknown-layers accepts") {
		t.Errorf("inspect: exit %d\n%s", code, stdout)
	}
	if code, _, stderr := wasmgate(t, "pull", ref, "--verified", "--policy", "trust.yaml", "--allow-unknown-layers"); code != exitUsage {
		t.Errorf("--verified with --allow-unknown-layers: exit %d: %s", code, stderr)
	}
}
