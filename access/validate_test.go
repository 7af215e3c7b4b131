package access_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"

	"github.com/wasmgate/wasmgate/access"
	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/internal/testrig/testregistry"
)

// A manifest or config that the image-spec calls invalid is refused by
// inspect and pull, on both registry kinds, with the rule it breaks; the
// same artifact with the rule kept is read. A digest of an algorithm
// wasmgate cannot compute is valid: refused only where its content must be
// read, and then for that reason.
func TestInvalidDocumentsRefused(t *testing.T) {
	tiny := testkit.ReadFile(t, fixture("wasm/tiny.wasm"))
	unverifiable := digest.Digest("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564")
	cases := []struct {
		name string
		// edit changes a valid wasm artifact's manifest (as pushed) or
		// returns the config to use instead.
		edit   func(m *ocispec.Manifest)
		config *blob
		want   error  // nil: pulled
		rule   string // what the error names
		// ggcrOnly: distribution refuses to store a manifest naming a blob
		// it cannot hold (a digest it cannot compute), so the case runs on
		// go-containerregistry's registry, which stores what it is sent.
		ggcrOnly bool
	}{
		{name: "valid"},
		{name: "layer artifactType not a media type", edit: func(m *ocispec.Manifest) { m.Layers[0].ArtifactType = "wasm" },
			want: artifact.ErrInvalidDocument, rule: "/layers/0/artifactType"},
		{name: "layer url malformed", edit: func(m *ocispec.Manifest) { m.Layers[0].URLs = []string{"::"} },
			want: artifact.ErrInvalidDocument, rule: "/layers/0/urls/0"},
		{name: "annotation-only manifest without layers", edit: func(m *ocispec.Manifest) { m.Layers = nil },
			want: artifact.ErrInvalidDocument, rule: "/layers"},
		{name: "image config without os", config: &blob{mediaType: ocispec.MediaTypeImageConfig, data: []byte(`{"architecture":"wasm","rootfs":{"type":"layers","diff_ids":[]}}`)},
			want: artifact.ErrInvalidDocument, rule: "missing properties: 'os'"},
		{name: "image config with an env entry without equals", config: &blob{mediaType: ocispec.MediaTypeImageConfig, data: []byte(`{"architecture":"wasm","os":"wasip1","config":{"Env":["DEBUG"]},"rootfs":{"type":"layers","diff_ids":[]}}`)},
			want: artifact.ErrInvalidDocument, rule: "/config/Env/0"},
		{name: "valid image config", config: &blob{mediaType: ocispec.MediaTypeImageConfig, data: []byte(`{"architecture":"wasm","os":"wasip1","rootfs":{"type":"layers","diff_ids":[]}}`)}},
		{name: "unknown layer addressed by sha256+b64u", edit: func(m *ocispec.Manifest) {
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: "application/vnd.example.sbom", Digest: unverifiable, Size: 32})
		}, ggcrOnly: true},
		{name: "wasm layer addressed by sha256+b64u", edit: func(m *ocispec.Manifest) { m.Layers[0].Digest = unverifiable },
			want: artifact.ErrUnsupportedDigest, rule: "sha256+b64u", ggcrOnly: true},
	}
	for _, kind := range testregistry.Kinds() {
		reg := testregistry.New(t, kind)
		for _, tc := range cases {
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				if tc.ggcrOnly && kind != testregistry.KindGGCR {
					t.Skip("distribution does not store a manifest naming a digest it cannot compute")
				}
				dst, _ := registryTarget(t, reg, "validate/"+sanitize(tc.name), 5*time.Second)
				cfg := wasmConfig
				if tc.config != nil {
					cfg = *tc.config
				}
				seedEdited(t, dst, cfg, tiny, tc.edit)
				_, inspectErr := access.Inspect(testkit.Context(t), dst, "v1", access.PullOptions{AllowUnknownLayers: true})
				out := t.TempDir() + "/out"
				_, pullErr := access.Pull(testkit.Context(t), dst, "v1", out, access.PullOptions{AllowUnknownLayers: true})
				for op, err := range map[string]error{"inspect": inspectErr, "pull": pullErr} {
					if tc.want == nil {
						if err != nil {
							t.Errorf("%s refused a valid artifact: %v", op, err)
						}
						continue
					}
					if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.rule) {
						t.Errorf("%s: got %v, want %v naming %q", op, err, tc.want, tc.rule)
					}
				}
				if tc.want != nil {
					assertNoFiles(t, out)
				}
			})
		}
	}
}

// seedEdited pushes a wasm artifact whose manifest edit changes before it
// is stored, whatever the result (blobs that the edited manifest names but
// nobody pushed stay absent).
func seedEdited(t *testing.T, dst oras.Target, config blob, wasm []byte, edit func(*ocispec.Manifest)) {
	t.Helper()
	ctx := testkit.Context(t)
	push := func(mediaType string, data []byte) ocispec.Descriptor {
		d, err := oras.PushBytes(ctx, dst, mediaType, data)
		if err != nil {
			t.Fatalf("push %s: %v", mediaType, err)
		}
		return d
	}
	m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: push(config.mediaType, config.data)}
	m.SchemaVersion = 2
	m.Layers = append(m.Layers, push(artifact.MediaTypeWasm, wasm))
	if edit != nil {
		edit(&m)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	seedRaw(t, dst, "v1", raw)
}
