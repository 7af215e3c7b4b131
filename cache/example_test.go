package cache_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/internal/sample"
)

// publishSource packs the sample module with its policy and pushes it,
// tagged v1, to an OCI layout under work/source: the stand-in for a
// registry.
func publishSource(ctx context.Context, work string) (oras.Target, *artifact.Package) {
	wasmPath := filepath.Join(work, "hello.wasm")
	if err := os.WriteFile(wasmPath, sample.HelloWasm(), 0o644); err != nil {
		log.Fatal(err)
	}
	pkg, err := artifact.Pack(wasmPath, sample.PolicyYAML(), artifact.BuildOptions{})
	if err != nil {
		log.Fatal(err)
	}
	ref, err := artifact.ParseReference("oci-layout:" + filepath.Join(work, "source") + ":v1")
	if err != nil {
		log.Fatal(err)
	}
	src, err := (&access.Opener{}).Destination(ref)
	if err != nil {
		log.Fatal(err)
	}
	if err := access.Push(ctx, src, pkg, "v1", access.PushOptions{}); err != nil {
		log.Fatal(err)
	}
	return src, pkg
}

// Content enters the cache only through Target, in the same pass that
// hands it to the reader and only once it matched its digest; afterwards
// an offline Target serves it with no source at all. The source here is
// an OCI layout standing in for the repository registry.example/wasm/hello;
// in wasmgate it is a registry (access.Opener does this when its Cache is
// set).
func ExampleCache_Target() {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "cache-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)

	src, pkg := publishSource(ctx, work)
	c, err := cache.Open(filepath.Join(work, "cache"))
	if err != nil {
		log.Fatal(err)
	}
	const repo = "registry.example/wasm/hello"

	// Online: the pull resolves v1 at the source and fills the cache.
	if _, err := access.Pull(ctx, c.Target(src, repo, false), "v1", filepath.Join(work, "out1"), access.PullOptions{}); err != nil {
		log.Fatal(err)
	}
	has, _ := c.Has(ctx, pkg.Wasm.Digest)
	fmt.Println("wasm cached:", has)
	entries, _ := c.List(ctx)
	for _, e := range entries {
		fmt.Println(e.Reference, e.Digest == pkg.Manifest.Digest.String())
	}

	// Offline, with the source gone: served from the cache, and every
	// byte still hashed by the reader (the cache vouches for nothing).
	if err := os.RemoveAll(filepath.Join(work, "source")); err != nil {
		log.Fatal(err)
	}
	offline := c.Target(nil, repo, true)
	wasm, err := access.FetchVerified(ctx, offline, pkg.Wasm, 64<<20, "wasm layer")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("read back:", len(wasm) == len(sample.HelloWasm()))
	pulled, err := access.Pull(ctx, offline, "v1", filepath.Join(work, "out2"), access.PullOptions{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("offline pull:", pulled.Kind, len(pulled.Files))

	// What was never pulled is not there.
	_, err = access.Pull(ctx, offline, "v2", filepath.Join(work, "out3"), access.PullOptions{})
	fmt.Println(errors.Is(err, cache.ErrNotCached))
	// Output:
	// wasm cached: true
	// registry.example/wasm/hello:v1 true
	// read back: true
	// offline pull: module 2
	// true
}

// Verify re-hashes every cached blob and removes those whose bytes no
// longer match their digest (what `wasmgate cache verify` runs). The cache
// is an OCI image layout, so a blob is the file blobs/<alg>/<hex>.
func ExampleCache_Verify() {
	ctx := context.Background()
	work, err := os.MkdirTemp("", "cache-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)
	src, pkg := publishSource(ctx, work)
	c, err := cache.Open(filepath.Join(work, "cache"))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := access.Pull(ctx, c.Target(src, "registry.example/wasm/hello", false), "v1", filepath.Join(work, "out"), access.PullOptions{}); err != nil {
		log.Fatal(err)
	}

	// Flip a bit of the cached wasm layer, as a failing disk would.
	blob := filepath.Join(c.Dir(), "blobs", "sha256", pkg.Wasm.Digest.Encoded())
	raw, err := os.ReadFile(blob)
	if err != nil {
		log.Fatal(err)
	}
	raw[len(raw)/2] ^= 1
	if err := os.WriteFile(blob, raw, 0o644); err != nil {
		log.Fatal(err)
	}

	rep, err := c.Verify(ctx)
	if err != nil {
		log.Fatal(err)
	}
	has, _ := c.Has(ctx, pkg.Wasm.Digest)
	fmt.Println("checked", rep.Checked, "corrupt", len(rep.Corrupt), rep.Corrupt[0] == pkg.Wasm.Digest.String(), "still cached", has)
	// Output: checked 4 corrupt 1 true still cached false
}
