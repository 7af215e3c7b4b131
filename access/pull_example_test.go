package access_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
)

// publishSample packs the sample module with its permission policy and
// pushes it, tagged v1, to an OCI layout under dir. It returns the
// layout's reference and what was pushed.
func publishSample(ctx context.Context, dir string) (artifact.Reference, *artifact.Package) {
	wasmPath := filepath.Join(dir, "hello.wasm")
	if err := os.WriteFile(wasmPath, sample.HelloWasm(), 0o644); err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack(wasmPath, sample.PolicyYAML(), artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(dir, "layout") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	dst, err := (&access.Opener{}).Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, dst, pkg, ref.Tag, access.PushOptions{}); err != nil {
		log.Fatal(err)
	}
	return ref, pkg
}

// Pull writes the wasm layer and the publisher's permission policy, each
// checked against its digest, and parses the policy. Nothing is written
// unless every layer verified.
func ExamplePull() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "access-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ref, _ := publishSample(ctx, dir)

	src, err := (&access.Opener{}).Source(ref)
	if err != nil {
		log.Fatal(err)
	}
	pulled, err := access.Pull(ctx, src, ref.Object(), filepath.Join(dir, "out"), access.PullOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, f := range pulled.Files {
		fmt.Println(f.Role, filepath.Base(f.Path), f.MediaType)
	}
	s := pulled.Policy.Summary()
	fmt.Println(s.EnvKeys, s.Timeout)
	// Output:
	// wasm hello.wasm application/wasm
	// policy policy.yaml application/vnd.wasm.policy.v1+yaml
	// [GREETING] 10s
}

// FetchManifest resolves a tag once and returns the manifest its bytes
// hash to: every later step (signatures, the pull) uses that digest, so a
// tag that moves in between cannot swap the artifact.
func ExampleFetchManifest() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "access-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ref, pkg := publishSample(ctx, dir)

	src, err := (&access.Opener{}).Source(ref)
	if err != nil {
		log.Fatal(err)
	}
	m, err := access.FetchManifest(ctx, src, "v1", 0)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Descriptor.Digest == pkg.Manifest.Digest, m.Layers.Policy != nil, len(m.Layers.Unknown))

	// Pull exactly what was fetched, by its descriptor.
	pulled, err := access.PullManifest(ctx, src, m, filepath.Join(dir, "out"), access.PullOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pulled.Kind, len(pulled.Files))
	// Output:
	// true true 0
	// module 2
}

// FetchVerified returns bytes only when they hash to the descriptor: a
// descriptor that names other content, or content that changed under it
// (a registry that lies, a tampered layout or cache), is a typed error,
// never data.
func ExampleFetchVerified() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "access-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ref, pkg := publishSample(ctx, dir)

	src, err := (&access.Opener{}).Source(ref)
	if err != nil {
		log.Fatal(err)
	}
	policy, err := access.FetchVerified(ctx, src, *pkg.Policy, 1<<20, "policy layer")
	fmt.Println(len(policy) == len(sample.PolicyYAML()), err)

	// Larger than the caller's limit: refused before a byte is read.
	_, err = access.FetchVerified(ctx, src, *pkg.Policy, 16, "policy layer")
	fmt.Println(errors.Is(err, artifact.ErrTooLarge))

	// A descriptor whose size is not the content's.
	short := *pkg.Policy
	short.Size--
	_, err = access.FetchVerified(ctx, src, short, 1<<20, "policy layer")
	fmt.Println(errors.Is(err, artifact.ErrSizeMismatch))

	// The layout's blob altered on disk, same length.
	blob := filepath.Join(ref.Path, "blobs", "sha256", pkg.Policy.Digest.Encoded())
	raw, err := os.ReadFile(blob)
	if err != nil {
		log.Fatal(err)
	}
	raw[0] ^= 1
	if err := os.WriteFile(blob, raw, 0o644); err != nil {
		log.Fatal(err)
	}
	_, err = access.FetchVerified(ctx, src, *pkg.Policy, 1<<20, "policy layer")
	var de *artifact.DigestError
	fmt.Println(errors.Is(err, artifact.ErrDigestMismatch), errors.As(err, &de))
	// Output:
	// true <nil>
	// true
	// true
	// true true
}
