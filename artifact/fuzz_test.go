package artifact_test

import (
	"bytes"
	"encoding/json"
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
		artifact.ErrMultipleWasm, artifact.ErrMultiplePolicies, artifact.ErrInvalidSpinApp}
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
		// A digest of an algorithm wasmgate cannot compute is valid (the
		// image-spec says so); fetching its content is what fails.
		wasmRole := artifact.RoleOf(m.Layers.Wasm.MediaType) == artifact.RoleWasm ||
			m.Layers.Archive && m.Layers.Wasm.MediaType == artifact.MediaTypeImageLayerGzip
		if d := m.Layers.Wasm.Digest.Validate(); !wasmRole ||
			(d != nil && !errors.Is(d, digest.ErrDigestUnsupported)) || m.Layers.Wasm.Size < 0 {
			t.Fatalf("accepted a manifest without a valid wasm layer: %s", raw)
		}
		if artifact.ValidateDocument(ocispec.MediaTypeImageManifest, raw) != nil {
			t.Fatalf("accepted a manifest the image-spec rejects: %s", raw)
		}
	})
}

// FuzzValidateDocument: any bytes, as any OCI document type, are valid or
// a *SchemaError wrapping ErrInvalidDocument; never a panic. What is valid
// decodes into its Go type with every descriptor's size non-negative.
func FuzzValidateDocument(f *testing.F) {
	types := []string{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, ocispec.MediaTypeImageConfig,
		ocispec.MediaTypeDescriptor, ocispec.MediaTypeLayoutHeader}
	for i, doc := range []string{
		`{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"data":"e30="},"layers":[{"mediaType":"application/wasm","digest":"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564","size":7,"urls":["https://x/y"]}]}`,
		`{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2,"platform":{"architecture":"wasm","os":"wasip1"}}]}`,
		`{"architecture":"wasm","os":"wasip1","config":{"Env":["A=1"]},"rootfs":{"type":"layers","diff_ids":[]}}`,
		`{"mediaType":"application/wasm","digest":"sha512:00","size":-1}`,
		`{"imageLayoutVersion":"1.0.0"}`,
	} {
		f.Add(uint8(i), []byte(doc))
	}
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		mediaType := types[int(which)%len(types)]
		// The Go form of the schema agrees with image-spec's schema files.
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		var doc any
		if dec.Decode(&doc) == nil {
			at, ok := artifact.CheckShape(mediaType, doc)
			if want := oracleValid(t, mediaType, doc); ok != want {
				t.Fatalf("%s: the schema files say valid=%v, ValidateDocument says %v (at %q): %s", mediaType, want, ok, at, raw)
			}
		}
		err := artifact.ValidateDocument(mediaType, raw)
		if err != nil {
			var se *artifact.SchemaError
			if !errors.Is(err, artifact.ErrInvalidDocument) || !errors.As(err, &se) {
				t.Fatalf("error without a SchemaError: %v", err)
			}
			return
		}
		var descs []ocispec.Descriptor
		switch mediaType {
		case ocispec.MediaTypeImageManifest:
			var m ocispec.Manifest
			if json.Unmarshal(raw, &m) != nil {
				t.Fatalf("valid manifest does not decode: %s", raw)
			}
			descs = append(m.Layers, m.Config)
		case ocispec.MediaTypeImageIndex:
			var idx ocispec.Index
			if json.Unmarshal(raw, &idx) != nil {
				t.Fatalf("valid index does not decode: %s", raw)
			}
			descs = idx.Manifests
		}
		for _, d := range descs {
			if d.Size < 0 {
				t.Fatalf("valid document with a negative size: %s", raw)
			}
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
