package artifact_test

import (
	"errors"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

// ParseSubject says what a manifest is; a manifest that claims wasm and
// is not a valid wasm artifact stays an error, never an artifact of
// another kind; invalid documents (Docker's too) are refused.
func TestParseSubject(t *testing.T) {
	const (
		d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	manifest := func(artifactType, config, layer string) string {
		at := ""
		if artifactType != "" {
			at = `"artifactType":"` + artifactType + `",`
		}
		return `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",` + at +
			`"config":{"mediaType":"` + config + `","digest":"` + d1 + `","size":2},` +
			`"layers":[{"mediaType":"` + layer + `","digest":"` + d2 + `","size":10}]}`
	}
	cases := []struct {
		name string
		doc  string
		kind artifact.SubjectKind
		err  error
	}{
		{"wasm artifact", manifest("", artifact.MediaTypeConfig, "application/wasm"), artifact.SubjectWasm, nil},
		{"container image", manifest("", ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageLayerGzip), artifact.SubjectImage, nil},
		{"helm chart", manifest("", "application/vnd.cncf.helm.config.v1+json", "application/vnd.cncf.helm.chart.content.v1.tar+gzip"), artifact.SubjectArtifact, nil},
		{"sbom artifact", manifest("application/spdx+json", ocispec.MediaTypeEmptyJSON, "application/spdx+json"), artifact.SubjectArtifact, nil},
		{"image config with an artifactType", manifest("application/vnd.example", ocispec.MediaTypeImageConfig, ocispec.MediaTypeImageLayer), artifact.SubjectArtifact, nil},
		{"index", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"` + d1 + `","size":2,"platform":{"os":"linux","architecture":"amd64"}}]}`, artifact.SubjectIndex, nil},
		{"wasm config without a wasm layer", manifest("", artifact.MediaTypeConfig, ocispec.MediaTypeImageLayerGzip), "", artifact.ErrNoWasmLayer},
		{"wasm artifactType without a wasm layer", manifest(artifact.MediaTypeConfig, ocispec.MediaTypeEmptyJSON, "text/plain"), "", artifact.ErrNoWasmLayer},
		{"docker manifest without config or layers", `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}`, "", artifact.ErrInvalidManifest},
		{"index without its mediaType in the document", `{"schemaVersion":2,"manifests":[]}`, "", artifact.ErrInvalidManifest},
		{"invalid index", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"nope"}]}`, "", artifact.ErrInvalidDocument},
		{"invalid image manifest", `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"` + ocispec.MediaTypeImageConfig + `","digest":"` + d1 + `","size":-1},"layers":[]}`, "", artifact.ErrInvalidDocument},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mt := ocispec.MediaTypeImageManifest
			if tc.name == "index without its mediaType in the document" {
				mt = ocispec.MediaTypeImageIndex
			}
			desc := ocispec.Descriptor{MediaType: mt, Digest: digest.FromString(tc.doc), Size: int64(len(tc.doc))}
			s, err := artifact.ParseSubject(desc, []byte(tc.doc))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != tc.kind {
				t.Errorf("kind %s, want %s", s.Kind, tc.kind)
			}
			if (s.Kind == artifact.SubjectWasm) != (s.Wasm != nil) || (s.Kind == artifact.SubjectIndex) != (s.Index != nil) || (s.Kind == artifact.SubjectIndex) == (s.Manifest != nil) {
				t.Errorf("fields do not follow the kind: %+v", s)
			}
		})
	}
}
