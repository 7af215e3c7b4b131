package verify_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/content"

	"github.com/wasmgate/wasmgate/artifact"
	"github.com/wasmgate/wasmgate/internal/testrig/testkit"
	"github.com/wasmgate/wasmgate/sign"
	"github.com/wasmgate/wasmgate/verify"
)

// A signed component whose wkg config lists its imports is verified; one
// whose config leaves out the wasi:sockets import is denied, whatever the
// signatures: the config would hide a capability from whoever reads it.
func TestVerifyComponentConfigHidesImport(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join("..", "testdata", "wasm", "sockets.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, imports string
		want          error
	}{
		{"config lists the import", `["wasi:sockets/tcp@0.2.0"]`, nil},
		{"config hides the import", `[]`, artifact.ErrConfigHidesImport},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testkit.Context(t)
			f := newFixture(t, atLayout)
			config := []byte(`{"architecture":"wasm","os":"wasip2","component":{"exports":["run"],"imports":` + tc.imports + `}}`)
			push := func(mediaType string, b []byte) ocispec.Descriptor {
				d := content.NewDescriptorFromBytes(mediaType, b)
				if err := f.dst.Push(ctx, d, bytes.NewReader(b)); err != nil {
					t.Fatal(err)
				}
				return d
			}
			m := ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: push(artifact.MediaTypeConfig, config),
				Layers: []ocispec.Descriptor{push(artifact.MediaTypeWasm, wasm)}}
			m.SchemaVersion = 2
			raw, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if f.subject, err = oras.TagBytes(ctx, f.dst, ocispec.MediaTypeImageManifest, raw, "v1"); err != nil {
				t.Fatal(err)
			}
			f.cosign(t, "release", sign.FormatBundle)
			p := f.policy(t, policyOf(f.scope(t), 1, "release", ""))
			a, res, err := mustVerifier(t, p, f.opener, verify.Options{}).Fetch(ctx, mustRef(t, f.ref))
			if tc.want == nil {
				if err != nil || a.Kind() != artifact.KindComponent {
					t.Fatalf("Fetch = %v (%+v)", err, res)
				}
				return
			}
			if !errors.Is(err, verify.ErrNotVerified) || a != nil || res.Verdict != verify.VerdictDenied {
				t.Fatalf("Fetch = %v, want a denial", err)
			}
			var layers *verify.Check
			for _, c := range res.Failed() {
				if c.Name == verify.CheckLayers {
					layers = &c
				}
			}
			if layers == nil || !errors.Is(layers.Err, tc.want) || !errors.Is(layers.Err, verify.ErrLayers) {
				t.Fatalf("failed checks %+v, want layers with %v", res.Failed(), tc.want)
			}
		})
	}
}
