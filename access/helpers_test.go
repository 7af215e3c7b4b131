package access_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// newClient returns a registry client for reg: plain HTTP, no stored
// credentials, a short stall timeout.
func newClient(t testing.TB, reg *testregistry.Registry, timeout time.Duration) *remote.Client {
	t.Helper()
	c, err := remote.New(remote.Options{
		PlainHTTP:   []string{reg.Host},
		Timeout:     timeout,
		Credentials: credentials.NewMemoryStore(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// sampleFiles writes the sample module and policy into a temp dir.
func sampleFiles(t testing.TB) (wasmPath string, policy []byte) {
	t.Helper()
	dir := t.TempDir()
	wasmPath = filepath.Join(dir, "hello.wasm")
	if err := os.WriteFile(wasmPath, sample.HelloWasm(), 0o644); err != nil {
		t.Fatal(err)
	}
	return wasmPath, sample.PolicyYAML()
}

// fixture is the path of a file under the repository's testdata.
func fixture(name string) string { return filepath.Join("..", "testdata", name) }

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// registryTarget opens repo on reg through the library, as the CLI does.
func registryTarget(t testing.TB, reg *testregistry.Registry, repo string, timeout time.Duration) (oras.Target, artifact.Reference) {
	t.Helper()
	ref, err := artifact.ParseReference(reg.Ref(repo, "v1"))
	if err != nil {
		t.Fatal(err)
	}
	o := &access.Opener{Client: newClient(t, reg, timeout)}
	dst, err := o.Destination(ref)
	if err != nil {
		t.Fatal(err)
	}
	return dst, ref
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
	ctx := ctxT(t)
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
	desc, err := oras.TagBytes(ctxT(t), dst, ocispec.MediaTypeImageManifest, raw, tag)
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
