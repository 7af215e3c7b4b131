package artifact_test

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

// FuzzParseManifest: any bytes a registry serves either parse into a
// classified manifest with exactly one wasm layer, or fail with one of the
// package's sentinels. Never a panic.
func FuzzParseManifest(f *testing.F) {
	wasmPath := "../testdata/wasm/tiny.wasm"
	pkg, err := artifact.Pack(wasmPath, nil, artifact.BuildOptions{})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pkg.ManifestJSON)
	f.Add([]byte(`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`))
	f.Add([]byte(`{"schemaVersion":2,"artifactType":"application/wasm","config":{},"layers":[{"mediaType":"application/wasm","digest":"sha512:00","size":-1}]}`))
	f.Add([]byte(`not json`))
	sentinels := []error{artifact.ErrInvalidManifest, artifact.ErrNotWasmArtifact, artifact.ErrNoWasmLayer,
		artifact.ErrMultipleWasm, artifact.ErrMultiplePolicies}
	f.Fuzz(func(t *testing.T, raw []byte) {
		desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(raw), Size: int64(len(raw))}
		m, err := artifact.ParseManifest(desc, raw)
		if err != nil {
			for _, s := range sentinels {
				if errors.Is(err, s) {
					return
				}
			}
			t.Fatalf("error without a sentinel: %v", err)
		}
		if artifact.RoleOf(m.Layers.Wasm.MediaType) != artifact.RoleWasm || m.Layers.Wasm.Digest.Validate() != nil || m.Layers.Wasm.Size < 0 {
			t.Fatalf("accepted a manifest without a valid wasm layer: %s", raw)
		}
	})
}

// FuzzParseReference: parsing never panics, and what parses prints back to
// a string that parses to the same reference.
func FuzzParseReference(f *testing.F) {
	for _, s := range []string{"registry.example/a/b:v1", "oci://localhost:5000/x@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
		"oci-layout:/tmp/l:v1", "oci://0/00", "oci-layout:dir@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "file:///x.wasm", "https://h/x.wasm", "x.wasm", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := artifact.ParseReference(s)
		if err != nil {
			if !errors.Is(err, artifact.ErrInvalidReference) {
				t.Fatalf("error without ErrInvalidReference: %v", err)
			}
			return
		}
		if ref.Kind == artifact.RefHTTPS {
			return // String redacts credentials by design
		}
		again, err := artifact.ParseReference(ref.String())
		if err != nil {
			t.Fatalf("%q -> %q does not parse: %v", s, ref.String(), err)
		}
		if again.Kind != ref.Kind || again.Object() != ref.Object() {
			t.Fatalf("%q -> %q -> %+v, want %+v", s, ref.String(), again, ref)
		}
	})
}
