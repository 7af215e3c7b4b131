package peers

import (
	"path/filepath"
	"runtime"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// SubjectTag is the tag [PushSubject] gives the artifact.
const SubjectTag = "v1"

// TinyWasm is the path of testdata/wasm/tiny.wasm, the core module
// [PushSubject] pushes.
func TinyWasm(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("peers: cannot locate the package source to find testdata")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "wasm", "tiny.wasm")
}

// PushSubject pushes testdata/wasm/tiny.wasm to repo in reg as a wasm
// artifact (config application/vnd.wasm.config.v0+json, one
// application/wasm layer) tagged [SubjectTag], and returns its manifest
// descriptor: something real to sign. The same inputs always give the same
// digest.
func PushSubject(t testing.TB, reg *testregistry.Registry, repo string) ocispec.Descriptor {
	t.Helper()
	pkg, err := artifact.Pack(TinyWasm(t), nil, artifact.BuildOptions{})
	if err != nil {
		t.Fatalf("peers: packing tiny.wasm: %v", err)
	}
	if err := access.Push(t.Context(), reg.Repository(t, repo), pkg, SubjectTag, access.PushOptions{}); err != nil {
		t.Fatalf("peers: pushing the subject to %s: %v", reg.Ref(repo, SubjectTag), err)
	}
	return pkg.Manifest
}
