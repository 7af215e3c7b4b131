package access_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
)

// Publish a module to an OCI layout and pull it back, every digest checked.
// A registry works the same way: open it with an [access.Opener] whose
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
	o := &access.Opener{}
	dst, _ := o.Destination(ref)
	if err := access.Push(ctx, dst, pkg, ref.Tag, access.PushOptions{}); err != nil {
		panic(err)
	}

	src, _ := o.Source(ref)
	pulled, err := access.Pull(ctx, src, ref.Object(), filepath.Join(work, "out"), access.PullOptions{})
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
