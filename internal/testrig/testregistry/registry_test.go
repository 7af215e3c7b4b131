package testregistry

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/content/memory"
	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
)

// image is what seedImage pushed.
type image struct {
	manifest      ocispec.Descriptor
	manifestBytes []byte
	layer         ocispec.Descriptor
	layerBytes    []byte
}

// seedImage packs a one-layer wasm-like image in memory and copies it to
// repo:tag with oras.Copy.
func seedImage(t *testing.T, reg *Registry, repo, tag string) image {
	t.Helper()
	ctx := t.Context()
	store := memory.New()
	layerBytes := []byte("\x00asm\x01\x00\x00\x00")
	layer, err := oras.PushBytes(ctx, store, "application/wasm", layerBytes)
	if err != nil {
		t.Fatal(err)
	}
	config, err := oras.PushBytes(ctx, store, "application/vnd.wasm.config.v0+json", []byte(`{"architecture":"wasm","os":"wasip1"}`))
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, store, oras.PackManifestVersion1_1, "", oras.PackManifestOptions{
		Layers:           []ocispec.Descriptor{layer},
		ConfigDescriptor: &config,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Tag(ctx, desc, tag); err != nil {
		t.Fatal(err)
	}
	if _, err := oras.Copy(ctx, store, tag, reg.Repository(t, repo), tag, oras.CopyOptions{}); err != nil {
		t.Fatalf("copy to %s: %v", reg.Ref(repo, tag), err)
	}
	manifestBytes, err := content.FetchAll(ctx, store, desc)
	if err != nil {
		t.Fatal(err)
	}
	return image{manifest: desc, manifestBytes: manifestBytes, layer: layer, layerBytes: layerBytes}
}

// pushReferrer pushes an artifact manifest whose subject is subject.
func pushReferrer(t *testing.T, repo *remote.Repository, subject ocispec.Descriptor, artifactType string) ocispec.Descriptor {
	t.Helper()
	ctx := t.Context()
	blob := []byte(`{"_type":"https://in-toto.io/Statement/v1"}`)
	layer, err := oras.PushBytes(ctx, repo, artifactType, blob)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, artifactType, oras.PackManifestOptions{
		Subject:             &subject,
		Layers:              []ocispec.Descriptor{layer},
		ManifestAnnotations: map[string]string{"in-toto.io/predicate-type": "https://slsa.dev/provenance/v1"},
	})
	if err != nil {
		t.Fatalf("push referrer: %v", err)
	}
	return desc
}

func TestPushAndFetch(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := New(t, kind)
			img := seedImage(t, reg, "wasm/hello", "v1")
			repo := reg.Repository(t, "wasm/hello")

			desc, got, err := oras.FetchBytes(t.Context(), repo, "v1", oras.DefaultFetchBytesOptions)
			if err != nil {
				t.Fatal(err)
			}
			if desc.Digest != img.manifest.Digest || !bytes.Equal(got, img.manifestBytes) {
				t.Errorf("manifest by tag: got %s (%d bytes), want %s", desc.Digest, len(got), img.manifest.Digest)
			}
			_, got, err = oras.FetchBytes(t.Context(), repo.Blobs(), img.layer.Digest.String(), oras.DefaultFetchBytesOptions)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, img.layerBytes) {
				t.Errorf("layer: got %q, want %q", got, img.layerBytes)
			}
			if _, err := repo.Resolve(t.Context(), "missing"); !errors.Is(err, errdef.ErrNotFound) {
				t.Errorf("resolve missing tag: got %v, want ErrNotFound", err)
			}
		})
	}
}

// TestDockerContentDigest pins that both registries send Docker-Content-Digest
// and Content-Length on manifest HEAD and GET, by tag and by digest, and on
// blob GET: clients resolve tags with HEAD and rely on it.
func TestDockerContentDigest(t *testing.T) {
	for _, kind := range Kinds() {
		t.Run(string(kind), func(t *testing.T) {
			reg := New(t, kind)
			img := seedImage(t, reg, "wasm/hello", "v1")
			for _, tc := range []struct{ method, path, want string }{
				{"HEAD", "/v2/wasm/hello/manifests/v1", img.manifest.Digest.String()},
				{"GET", "/v2/wasm/hello/manifests/v1", img.manifest.Digest.String()},
				{"GET", "/v2/wasm/hello/manifests/" + img.manifest.Digest.String(), img.manifest.Digest.String()},
				{"GET", "/v2/wasm/hello/blobs/" + img.layer.Digest.String(), img.layer.Digest.String()},
			} {
				res := do(t, reg, tc.method, tc.path, ocispec.MediaTypeImageManifest)
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusOK {
					t.Fatalf("%s %s: status %d", tc.method, tc.path, res.StatusCode)
				}
				if got := res.Header.Get("Docker-Content-Digest"); got != tc.want {
					t.Errorf("%s %s: Docker-Content-Digest %q, want %q", tc.method, tc.path, got, tc.want)
				}
				if res.ContentLength < 0 {
					t.Errorf("%s %s: no Content-Length (chunked)", tc.method, tc.path)
				}
			}
		})
	}
}

// TestDistributionNeedsAccept pins that distribution hides an OCI manifest
// from a request whose Accept header does not list the OCI media type (404
// MANIFEST_UNKNOWN), where ggcr serves it whatever the Accept.
func TestDistributionNeedsAccept(t *testing.T) {
	for kind, want := range map[Kind]int{KindDistribution: http.StatusNotFound, KindGGCR: http.StatusOK} {
		t.Run(string(kind), func(t *testing.T) {
			reg := New(t, kind)
			seedImage(t, reg, "wasm/hello", "v1")
			res := do(t, reg, "GET", "/v2/wasm/hello/manifests/v1", "")
			res.Body.Close()
			if res.StatusCode != want {
				t.Errorf("GET without Accept: %d, want %d", res.StatusCode, want)
			}
		})
	}
}

func TestGGCRReferrersAPI(t *testing.T) {
	reg := GGCR(t)
	img := seedImage(t, reg, "wasm/hello", "v1")
	pusher := reg.Repository(t, "wasm/hello")
	// ggcr sends no OCI-Subject header on a manifest PUT, so oras-go would
	// take it for a registry without the API and also write the fallback
	// tag (see TestGGCRPushWritesFallbackTag); say up front that it has one.
	if err := pusher.SetReferrersCapability(true); err != nil {
		t.Fatal(err)
	}
	const artifactType = "application/vnd.in-toto+json"
	ref := pushReferrer(t, pusher, img.manifest, artifactType)
	fallback := strings.Replace(img.manifest.Digest.String(), ":", "-", 1)
	if _, err := pusher.Resolve(t.Context(), fallback); !errors.Is(err, errdef.ErrNotFound) {
		t.Fatalf("fallback tag: got %v, want ErrNotFound", err)
	}

	reg.Faults.ResetLog()
	var got []ocispec.Descriptor
	if err := reg.Repository(t, "wasm/hello").Referrers(t.Context(), img.manifest, "", func(r []ocispec.Descriptor) error {
		got = append(got, r...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Digest != ref.Digest {
		t.Fatalf("referrers: got %v, want one with digest %s", got, ref.Digest)
	}
	if n := reg.Faults.Count("GET", "/referrers/"+img.manifest.Digest.String()); n != 1 {
		t.Errorf("GET /referrers/<subject>: %d requests, want 1", n)
	}
	// The quirk FORMATS.md records: ggcr reports config.mediaType, here
	// the empty config, as artifactType, not the manifest's artifactType.
	if got[0].ArtifactType != ocispec.MediaTypeEmptyJSON {
		t.Errorf("artifactType: got %q, want ggcr's %q", got[0].ArtifactType, ocispec.MediaTypeEmptyJSON)
	}
	if got[0].Annotations["in-toto.io/predicate-type"] == "" {
		t.Errorf("annotations not copied into the referrers index: %v", got[0].Annotations)
	}
}

// TestGGCRPushWritesFallbackTag pins a ggcr quirk: with no OCI-Subject header
// on the PUT, oras-go indexes the referrer under the "sha256-<hex>" tag too,
// even though the Referrers API lists it. Listing it both ways finds it twice.
func TestGGCRPushWritesFallbackTag(t *testing.T) {
	reg := GGCR(t)
	img := seedImage(t, reg, "wasm/hello", "v1")
	repo := reg.Repository(t, "wasm/hello")
	ref := pushReferrer(t, repo, img.manifest, "application/vnd.in-toto+json")

	res := do(t, reg, "GET", "/v2/wasm/hello/referrers/"+img.manifest.Digest.String(), "")
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("OCI-Filters-Applied") != "" {
		t.Fatalf("referrers API: status %d, OCI-Filters-Applied %q", res.StatusCode, res.Header.Get("OCI-Filters-Applied"))
	}
	var index ocispec.Index
	if err := json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&index); err != nil {
		t.Fatal(err)
	}
	fallback := strings.Replace(img.manifest.Digest.String(), ":", "-", 1)
	_, b, err := oras.FetchBytes(t.Context(), repo, fallback, oras.DefaultFetchBytesOptions)
	if err != nil {
		t.Fatalf("fallback tag %s: %v", fallback, err)
	}
	var tagIndex ocispec.Index
	if err := json.Unmarshal(b, &tagIndex); err != nil {
		t.Fatal(err)
	}
	for name, idx := range map[string]ocispec.Index{"API": index, "tag": tagIndex} {
		if len(idx.Manifests) != 1 || idx.Manifests[0].Digest != ref.Digest {
			t.Errorf("%s lists %v, want %s", name, idx.Manifests, ref.Digest)
		}
	}
}

func TestDistributionHasNoReferrersAPI(t *testing.T) {
	reg := Distribution(t)
	img := seedImage(t, reg, "wasm/hello", "v1")

	res := do(t, reg, "GET", "/v2/wasm/hello/referrers/"+img.manifest.Digest.String(), "")
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Fatalf("GET referrers: status %d, want 404", res.StatusCode)
	}

	// oras-go falls back to the "sha256-<hex>" tag index, and lists the
	// referrer from there with the manifest's own artifactType.
	repo := reg.Repository(t, "wasm/hello")
	const artifactType = "application/vnd.in-toto+json"
	ref := pushReferrer(t, repo, img.manifest, artifactType)
	var got []ocispec.Descriptor
	if err := repo.Referrers(t.Context(), img.manifest, "", func(r []ocispec.Descriptor) error {
		got = append(got, r...)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Digest != ref.Digest || got[0].ArtifactType != artifactType {
		t.Fatalf("referrers via tag fallback: got %v, want %s with artifactType %s", got, ref.Digest, artifactType)
	}
	fallback := strings.Replace(img.manifest.Digest.String(), ":", "-", 1)
	if _, err := repo.Resolve(t.Context(), fallback); err != nil {
		t.Errorf("fallback tag %s: %v", fallback, err)
	}
}

func TestDistributionDelete(t *testing.T) {
	reg := Distribution(t)
	img := seedImage(t, reg, "wasm/hello", "v1")
	repo := reg.Repository(t, "wasm/hello")
	if err := repo.Delete(t.Context(), img.manifest); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if _, err := repo.Resolve(t.Context(), img.manifest.Digest.String()); !errors.Is(err, errdef.ErrNotFound) {
		t.Errorf("after delete: got %v, want ErrNotFound", err)
	}
}

func TestRef(t *testing.T) {
	reg := &Registry{Host: "127.0.0.1:5000"}
	d := digest.FromString("x").String()
	for _, tc := range []struct{ tagOrDigest, want string }{
		{"", "127.0.0.1:5000/a/b"},
		{"v1", "127.0.0.1:5000/a/b:v1"},
		{d, "127.0.0.1:5000/a/b@" + d},
	} {
		if got := reg.Ref("a/b", tc.tagOrDigest); got != tc.want {
			t.Errorf("Ref(%q) = %q, want %q", tc.tagOrDigest, got, tc.want)
		}
	}
}

func TestListenLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "10.0.0.1:0", "[::]:0", "example.com:0"} {
		if l, err := ListenLoopback(addr); !errors.Is(err, ErrNotLoopback) {
			if l != nil {
				l.Close()
			}
			t.Errorf("ListenLoopback(%q): got %v, want ErrNotLoopback", addr, err)
		}
	}
	l, err := ListenLoopback("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

func TestNewHandlerUnknownKind(t *testing.T) {
	if _, err := NewHandler("zot"); !errors.Is(err, ErrUnknownKind) {
		t.Errorf("got %v, want ErrUnknownKind", err)
	}
	if !slices.Contains(Kinds(), KindGGCR) {
		t.Error("Kinds misses ggcr")
	}
}

// do sends one request with the registry's own client.
func do(t *testing.T, reg *Registry, method, path, accept string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, reg.URL.String()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := reg.Server.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	return res
}

// get GETs path and returns status and body.
func get(t *testing.T, reg *Registry, path string) (int, []byte) {
	t.Helper()
	res := do(t, reg, "GET", path, ocispec.MediaTypeImageManifest)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", path, err)
	}
	return res.StatusCode, b
}
