package referrers_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	orasremote "oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/credentials"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// site is one registry repository, opened as wasmgate opens it.
type site struct {
	reg    *testregistry.Registry
	ref    artifact.Reference
	target oras.Target
	api    *orasremote.Repository
}

func openSite(t testing.TB, reg *testregistry.Registry, repo string) *site {
	t.Helper()
	c, err := remote.New(remote.Options{PlainHTTP: []string{reg.Host}, Credentials: credentials.NewMemoryStore(), Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := artifact.ParseReference(reg.Ref(repo, "v1"))
	if err != nil {
		t.Fatal(err)
	}
	dst, err := (&access.Opener{Client: c}).Destination(ref)
	if err != nil {
		t.Fatal(err)
	}
	return &site{reg: reg, ref: ref, target: dst, api: c.ReferrersAPI(ref.Registry, 0)}
}

// opts are discovery options for this site, with the API available.
func (s *site) opts() referrers.Options { return referrers.Options{API: s.api} }

// pushSubject pushes the tiny module as a wasm artifact tagged v1.
func pushSubject(t testing.TB, dst oras.Target) ocispec.Descriptor {
	t.Helper()
	pkg, err := artifact.Pack(filepath.Join("..", "testdata", "wasm", "tiny.wasm"), nil, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Push(ctxT(t), dst, pkg, "v1", access.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	return pkg.Manifest
}

func attach(t testing.TB, dst oras.Target, subject ocispec.Descriptor, artifactType, mediaType, data string, ann map[string]string) ocispec.Descriptor {
	t.Helper()
	desc, err := referrers.Attach(ctxT(t), dst, subject, artifactType,
		[]referrers.Blob{{MediaType: mediaType, Data: []byte(data)}}, referrers.AttachOptions{Annotations: ann})
	if err != nil {
		t.Fatalf("attach %s: %v", artifactType, err)
	}
	return desc
}

func digests(rs []referrers.Referrer) []digest.Digest {
	out := make([]digest.Digest, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Digest)
	}
	slices.Sort(out)
	return out
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pushSubjectVariant pushes another artifact (the component) tagged v2.
func pushSubjectVariant(t testing.TB, dst oras.Target) ocispec.Descriptor {
	t.Helper()
	pkg, err := artifact.Pack(filepath.Join("..", "testdata", "wasm", "component.wasm"), nil, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Push(ctxT(t), dst, pkg, "v2", access.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	return pkg.Manifest
}
