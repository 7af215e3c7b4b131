package access_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/cache"
	"github.com/wasmgate/wasmgate/internal/sample"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
	"github.com/wasmgate/wasmgate/remote"
)

// Every bad input fails with a typed error and leaves nothing behind: not
// in the output directory, not in the cache.
func TestPullRejects(t *testing.T) {
	wasmPath, policy := sampleFiles(t)
	pkg, err := artifact.Pack(wasmPath, policy, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	blobPath := func(d digest.Digest) string { return "/blobs/" + d.String() + "$" }
	manifestByTag := "/manifests/v1$"

	cases := []struct {
		name string
		// setup injects faults or seeds content; it returns the object to
		// pull and the digests that must not end up in the cache.
		setup   func(t *testing.T, reg *testregistry.Registry, dst oras.Target) (string, []digest.Digest)
		timeout time.Duration
		want    error
	}{
		{
			name: "tampered layer",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("GET", blobPath(pkg.Wasm.Digest), testregistry.TamperBody())
				return "v1", []digest.Digest{pkg.Wasm.Digest}
			},
			want: artifact.ErrDigestMismatch,
		},
		{
			name: "tampered config",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("GET", blobPath(pkg.Config.Digest), testregistry.TamperBody())
				return "v1", []digest.Digest{pkg.Config.Digest}
			},
			want: artifact.ErrDigestMismatch,
		},
		{
			name: "layer shorter than its descriptor",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("GET", blobPath(pkg.Wasm.Digest), testregistry.Truncate(1000))
				return "v1", []digest.Digest{pkg.Wasm.Digest}
			},
			want: artifact.ErrSizeMismatch,
		},
		{
			name: "layer longer than its descriptor",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("GET", blobPath(pkg.Wasm.Digest), testregistry.Extend(100))
				return "v1", []digest.Digest{pkg.Wasm.Digest}
			},
			want: artifact.ErrSizeMismatch,
		},
		{
			name: "manifest over 4 MiB",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("GET", manifestByTag, testregistry.LargeBody(5<<20))
				return "v1", nil
			},
			want: artifact.ErrTooLarge,
		},
		{
			name: "manifest that is not JSON",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("", manifestByTag, testregistry.ReplaceBody(func([]byte) []byte { return []byte("<html>not a manifest</html>") }))
				return "v1", nil
			},
			want: artifact.ErrInvalidManifest,
		},
		{
			name: "tampered manifest served for a pinned digest",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("", "/manifests/"+pkg.Manifest.Digest.String()+"$", testregistry.ReplaceBody(func(b []byte) []byte {
					return []byte(strings.Replace(string(b), `"architecture"`, `"architecture" `, 1) + " ")
				}))
				return pkg.Manifest.Digest.String(), nil
			},
			want: artifact.ErrDigestMismatch,
		},
		{
			name: "manifest bytes tampered under the right digest header",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("GET", "/manifests/"+pkg.Manifest.Digest.String()+"$", testregistry.TamperBody())
				return pkg.Manifest.Digest.String(), nil
			},
			want: artifact.ErrDigestMismatch,
		},
		{
			name: "pinned digest the registry does not have",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				return digest.FromString("something else").String(), nil
			},
			want: remote.ErrNotFound,
		},
		{
			name: "two wasm layers",
			setup: func(t *testing.T, _ *testregistry.Registry, dst oras.Target) (string, []digest.Digest) {
				seed(t, dst, "two", "", wasmConfig, blob{mediaType: artifact.MediaTypeWasm, data: tiny},
					blob{mediaType: artifact.MediaTypeWasm, data: testkit.ReadFile(t, fixture("wasm/component.wasm"))})
				return "two", nil
			},
			want: artifact.ErrMultipleWasm,
		},
		{
			name: "no wasm layer",
			setup: func(t *testing.T, _ *testregistry.Registry, dst oras.Target) (string, []digest.Digest) {
				seed(t, dst, "none", "", wasmConfig, blob{mediaType: artifact.MediaTypePolicy, data: sample.PolicyYAML()})
				return "none", nil
			},
			want: artifact.ErrNoWasmLayer,
		},
		{
			name: "container image, not a wasm artifact",
			setup: func(t *testing.T, _ *testregistry.Registry, dst oras.Target) (string, []digest.Digest) {
				seed(t, dst, "image", "", blob{mediaType: "application/vnd.docker.container.image.v1+json", data: []byte(`{}`)},
					blob{mediaType: ocispec.MediaTypeImageLayerGzip, data: []byte("not really gzip")})
				return "image", nil
			},
			want: artifact.ErrNotWasmArtifact,
		},
		{
			name: "policy layer that is not policy YAML",
			setup: func(t *testing.T, _ *testregistry.Registry, dst oras.Target) (string, []digest.Digest) {
				seed(t, dst, "badpolicy", "", wasmConfig, blob{mediaType: artifact.MediaTypeWasm, data: tiny},
					blob{mediaType: artifact.MediaTypePolicy, data: []byte("version: \"1.0\"\npermissions:\n  storage:\n    allow: [{uri: \"http://x\", access: [read]}]\n")})
				return "badpolicy", nil
			},
			want: artifact.ErrInvalidPolicy,
		},
		{
			name: "wasm layer that is not wasm",
			setup: func(t *testing.T, _ *testregistry.Registry, dst oras.Target) (string, []digest.Digest) {
				seed(t, dst, "notwasm", "", wasmConfig, blob{mediaType: artifact.MediaTypeWasm, data: []byte("#!/bin/sh\necho hi\n")})
				return "notwasm", nil
			},
			want: artifact.ErrNotWasm,
		},
		{
			name: "registry that hangs",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("", "/manifests/", testregistry.Hang())
				return "v1", nil
			},
			timeout: 300 * time.Millisecond,
			want:    remote.ErrTimeout,
		},
		{
			name: "blob that stalls midway",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("GET", blobPath(pkg.Wasm.Digest), testregistry.Slow(1))
				return "v1", []digest.Digest{pkg.Wasm.Digest}
			},
			timeout: 300 * time.Millisecond,
			want:    context.DeadlineExceeded,
		},
		{
			name: "unauthorised",
			setup: func(t *testing.T, reg *testregistry.Registry, _ oras.Target) (string, []digest.Digest) {
				reg.Faults.Inject("", "", testregistry.Unauthorized())
				return "v1", nil
			},
			want: remote.ErrUnauthorized,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reg := testregistry.Distribution(t)
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 5 * time.Second
			}
			// Seed with a patient client; pull with the one under test.
			seedDst, _ := registryTarget(t, reg, "wasm/hello", 30*time.Second)
			if err := access.Push(testkit.Context(t), seedDst, pkg, "v1", access.PushOptions{}); err != nil {
				t.Fatal(err)
			}
			dst, ref := registryTarget(t, reg, "wasm/hello", timeout)
			object, mustNotCache := tc.setup(t, reg, dst)

			ch, err := cache.Open(filepath.Join(t.TempDir(), "cache"))
			if err != nil {
				t.Fatal(err)
			}
			src := ch.Target(dst, ref.Registry.Registry+"/"+ref.Registry.Repository, false)
			out := filepath.Join(t.TempDir(), "out")
			_, err = access.Pull(testkit.Context(t), src, object, out, access.PullOptions{})
			err = remote.Classify("pull", reg.Host, err)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			assertNoFiles(t, out)
			for _, d := range mustNotCache {
				if ok, _ := ch.Has(testkit.Context(t), d); ok {
					t.Errorf("cache holds %s after a failed fetch", d)
				}
			}
			if errors.Is(err, remote.ErrUnauthorized) && !strings.Contains(err.Error(), "wasmgate login") {
				t.Errorf("401 message does not point at wasmgate login: %v", err)
			}
		})
	}
}

// A registry that answers 500 once is retried; the pull succeeds.
func TestPullRetriesServerErrors(t *testing.T) {
	reg := testregistry.GGCR(t)
	dst, _ := registryTarget(t, reg, "wasm/hello", 5*time.Second)
	wasmPath, policy := sampleFiles(t)
	pkg, err := artifact.Pack(wasmPath, policy, artifact.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := access.Push(testkit.Context(t), dst, pkg, "v1", access.PushOptions{}); err != nil {
		t.Fatal(err)
	}
	manifest := reg.Faults.Inject("GET", "/manifests/v1$", testregistry.Status(500, 1))
	layer := reg.Faults.Inject("GET", "/blobs/"+pkg.Wasm.Digest.String(), testregistry.Status(503, 2))
	if _, err := access.Pull(testkit.Context(t), dst, "v1", t.TempDir(), access.PullOptions{}); err != nil {
		t.Fatal(err)
	}
	if manifest.Applied() != 1 || layer.Applied() != 2 {
		t.Errorf("faults applied %d and %d times, want 1 and 2", manifest.Applied(), layer.Applied())
	}
}

func TestPullUnknownHost(t *testing.T) {
	c := testkit.Client(t, nil, remote.Options{Timeout: 5 * time.Second})
	ref, err := artifact.ParseReference("registry.wasmgate-test.invalid/wasm/hello:v1")
	if err != nil {
		t.Fatal(err)
	}
	src, err := (&access.Opener{Client: c}).Source(ref)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "out")
	_, err = access.Pull(testkit.Context(t), src, "v1", out, access.PullOptions{})
	if err = remote.Classify("pull", ref.Registry.Registry, err); !errors.Is(err, remote.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	assertNoFiles(t, out)
}
