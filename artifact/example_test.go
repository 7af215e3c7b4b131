package artifact_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

func ExampleParseReference() {
	for _, s := range []string{
		"registry.example/wasm/hello:v1",
		"oci://localhost:5000/hello@sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
		"oci-layout:./build/layout:v1",
		"./hello.wasm",
		"https://example.test/hello.wasm",
	} {
		ref, err := artifact.ParseReference(s)
		if err != nil {
			panic(err)
		}
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%-8s %s", ref.Kind, ref.Object())))
	}
	// Output:
	// registry v1
	// registry sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a
	// layout   v1
	// file
	// https
}

func ExampleDetectKind() {
	header := []byte{0x00, 'a', 's', 'm', 0x0d, 0x00, 0x01, 0x00}
	kind, err := artifact.DetectKind(header)
	fmt.Println(kind, kind.OS(), err)
	// Output: component wasip2 <nil>
}

// An OCI document is checked against the image-spec: the error says which
// value breaks which rule. A digest of an algorithm wasmgate cannot compute
// is valid; only reading the content it names is refused.
func ExampleValidateDocument() {
	manifest := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
	  "config":{"mediaType":"application/vnd.oci.empty.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
	  "layers":[{"mediaType":"application/wasm","size":7,"digest":"sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564"}]}`)
	fmt.Println(artifact.ValidateDocument(ocispec.MediaTypeImageManifest, manifest))

	broken := bytes.Replace(manifest, []byte(`"application/wasm"`), []byte(`"wasm"`), 1)
	err := artifact.ValidateDocument(ocispec.MediaTypeImageManifest, broken)
	var se *artifact.SchemaError
	fmt.Println(errors.Is(err, artifact.ErrInvalidDocument), errors.As(err, &se) && se.Rule == "/layers/0/mediaType")
	// Output:
	// <nil>
	// true true
}

// ComponentInterfaces reads what a component imports and exports, for a
// host to compare with the permissions its publisher signed.
func ExampleComponentInterfaces() {
	wasm, err := os.ReadFile("../testdata/wasm/sockets.wasm")
	if err != nil {
		panic(err)
	}
	imports, exports, err := artifact.ComponentInterfaces(wasm)
	if err != nil {
		panic(err)
	}
	fmt.Println("imports:", imports)
	fmt.Println("exports:", exports)
	// Output:
	// imports: [wasi:sockets/tcp@0.2.0]
	// exports: [run]
}
