package access_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// sampleFiles writes the sample module and policy into a temp dir.
func sampleFiles(t testing.TB) (wasmPath string, policy []byte) {
	t.Helper()
	return testkit.TempFile(t, "hello.wasm", sample.HelloWasm()), sample.PolicyYAML()
}

// fixture is the path of a file under the repository's testdata.
func fixture(name string) string { return filepath.Join("..", "testdata", name) }

// registryTarget opens repo:v1 on reg through the library, as the CLI
// does, with a client whose stall timeout is timeout.
func registryTarget(t testing.TB, reg *testregistry.Registry, repo string, timeout time.Duration) (oras.Target, artifact.Reference) {
	t.Helper()
	s := testkit.Open(t, reg, reg.Ref(repo, "v1"), remote.Options{Timeout: timeout})
	return s.Target, s.Ref
}

// blob is a layer to seed with [seed].
type blob struct {
	mediaType string
	data      []byte
	title     string
}

// seed pushes an artifact of any shape with oras-go directly, the way
// other publishers do, and tags it.
func seed(t testing.TB, dst oras.Target, tag, artifactType string, config blob, layers ...blob) ocispec.Descriptor {
	t.Helper()
	ctx := testkit.Context(t)
	push := func(b blob) ocispec.Descriptor {
		d := content.NewDescriptorFromBytes(b.mediaType, b.data)
		if b.title != "" {
			d.Annotations = map[string]string{ocispec.AnnotationTitle: b.title}
		}
		if ok, _ := dst.Exists(ctx, d); !ok {
			if err := dst.Push(ctx, d, bytes.NewReader(b.data)); err != nil {
				t.Fatalf("seed blob %s: %v", b.mediaType, err)
			}
		}
		return d
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, ArtifactType: artifactType, Config: push(config)}
	m.SchemaVersion = 2
	for _, l := range layers {
		m.Layers = append(m.Layers, push(l))
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.TagBytes(ctx, dst, ocispec.MediaTypeImageManifest, raw, tag)
	if err != nil {
		t.Fatalf("seed manifest: %v", err)
	}
	return desc
}

// seedRaw stores raw as a manifest, whatever it contains, and tags it.
func seedRaw(t testing.TB, dst oras.Target, tag string, raw []byte) ocispec.Descriptor {
	t.Helper()
	desc, err := oras.TagBytes(testkit.Context(t), dst, ocispec.MediaTypeImageManifest, raw, tag)
	if err != nil {
		t.Fatalf("seed raw manifest: %v", err)
	}
	return desc
}

// assertNoFiles fails when dir exists and holds anything.
func assertNoFiles(t testing.TB, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind in %s: %s", dir, e.Name())
	}
}

var wasmConfig = blob{mediaType: artifact.MediaTypeConfig, data: []byte(`{"architecture":"wasm","os":"wasip1"}`)}

func digestOf(b []byte) digest.Digest { return digest.FromBytes(b) }

func digestFromString(s string) digest.Digest { return digest.Digest(s) }
