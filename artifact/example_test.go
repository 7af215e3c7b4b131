package artifact_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/wasmgate/wasmgate/artifact"
)

// Publish a module to an OCI layout and pull it back, every digest checked.
// A registry works the same way: open it with an [artifact.Opener] whose
// Client is a [remote.Client].
func Example() {
	ctx := context.Background()
	work, _ := os.MkdirTemp("", "wasmgate-example-")
	defer os.RemoveAll(work)

	// Pack hashes the module, reads its header and builds the manifest
	// (reproducible: no creation time unless asked for).
	pkg, err := artifact.Pack("../testdata/wasm/tiny.wasm", nil, artifact.BuildOptions{})
	if err != nil {
		panic(err)
	}
	ref, _ := artifact.ParseReference("oci-layout:" + filepath.Join(work, "layout") + ":v1")
	o := &artifact.Opener{}
	dst, _ := o.Destination(ref)
	if err := artifact.Push(ctx, dst, pkg, ref.Tag, artifact.PushOptions{}); err != nil {
		panic(err)
	}

	src, _ := o.Source(ref)
	pulled, err := artifact.Pull(ctx, src, ref.Object(), filepath.Join(work, "out"), artifact.PullOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Println(pulled.Kind, pulled.Config.OS)
	fmt.Println(pulled.Manifest.Descriptor.Digest == pkg.Manifest.Digest)
	for _, f := range pulled.Files {
		fmt.Println(f.Role, filepath.Base(f.Path), f.Size)
	}
	// Output:
	// module wasip1
	// true
	// wasm tiny.wasm 55
}

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
