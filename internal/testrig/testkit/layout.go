package testkit

import (
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content/oci"
)

// ShapeLayout is the directory of the OCI layout of a wasm shape under
// testdata/shapes (see its README), from a package directory one or two
// levels below the repository root.
func ShapeLayout(t testing.TB, name string) string {
	t.Helper()
	for _, up := range []string{"..", filepath.Join("..", "..")} {
		dir := filepath.Join(up, "testdata", "shapes", name)
		if _, err := os.Stat(filepath.Join(dir, "index.json")); err == nil {
			return dir
		}
	}
	t.Fatalf("testdata/shapes/%s not found", name)
	return ""
}

// PushLayout copies what tag names in the read-only OCI layout dir to dst
// under the same tag, byte for byte, as `oras cp` or `regctl image copy`
// would, and returns the manifest's descriptor.
func PushLayout(t testing.TB, dst oras.Target, dir, tag string) ocispec.Descriptor {
	t.Helper()
	src, err := oci.NewFromFS(Context(t), os.DirFS(dir))
	if err != nil {
		t.Fatalf("layout %s: %v", dir, err)
	}
	desc, err := oras.Copy(Context(t), src, tag, dst, tag, oras.DefaultCopyOptions)
	if err != nil {
		t.Fatalf("copy %s:%s: %v", dir, tag, err)
	}
	return desc
}
