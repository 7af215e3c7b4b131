package referrers_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/referrers"
	"github.com/wasmgate/wasmgate/remote"
)

// site is one registry repository, opened as wasmgate opens it.
type site struct {
	reg    *testregistry.Registry
	ref    artifact.Reference
	target oras.Target
	api    *remote.ReferrersLister
	client *remote.Client
}

func openSite(t testing.TB, reg *testregistry.Registry, repo string) *site {
	t.Helper()
	s := testkit.Open(t, reg, reg.Ref(repo, "v1"), remote.Options{Timeout: 10 * time.Second})
	return &site{reg: reg, ref: s.Ref, target: s.Target, api: s.Opener.Client.ReferrersAPI(s.Ref.Registry, 0), client: s.Opener.Client}
}

// opts are discovery options for this site, with the API available.
func (s *site) opts() referrers.Options { return referrers.Options{API: s.api} }

// pushSubject pushes the tiny module as a wasm artifact tagged v1.
func pushSubject(t testing.TB, dst oras.Target) ocispec.Descriptor {
	t.Helper()
	return testkit.Push(t, dst, filepath.Join("..", "testdata", "wasm", "tiny.wasm"), nil, "v1").Manifest
}

func attach(t testing.TB, dst oras.Target, subject ocispec.Descriptor, artifactType, mediaType, data string, ann map[string]string) ocispec.Descriptor {
	t.Helper()
	desc, err := referrers.Attach(testkit.Context(t), dst, subject, artifactType,
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

// pushSubjectVariant pushes another artifact (the component) tagged v2.
func pushSubjectVariant(t testing.TB, dst oras.Target) ocispec.Descriptor {
	t.Helper()
	return testkit.Push(t, dst, filepath.Join("..", "testdata", "wasm", "component.wasm"), nil, "v2").Manifest
}
