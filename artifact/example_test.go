package artifact_test

import (
	"fmt"
	"strings"

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
