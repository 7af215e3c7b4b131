package artifact_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/wasmgate/wasmgate/artifact"
)

func dockerDesc(mediaType, fields string) string {
	return `{"mediaType":"` + mediaType + `","size":7,"digest":"` + okDigest + `"` + fields + `}`
}

// dockerManifest is a schema 2 image manifest as `docker push` writes it.
func dockerManifest(config, layers, extra string) string {
	return `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":` + config + `,"layers":[` + layers + `]` + extra + `}`
}

var (
	dockerConfigDesc = dockerDesc(artifact.MediaTypeDockerConfig, "")
	dockerLayerDesc  = dockerDesc(artifact.MediaTypeDockerLayerGzip, "")
	dockerListEntry  = dockerDesc(artifact.MediaTypeDockerManifest, `,"platform":{"architecture":"amd64","os":"linux","features":["sse4"]}`)
)

func dockerList(entries string) string {
	return `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[` + entries + `]}`
}

// Each rule of Docker's schema 2 (manifest-v2-2.md, with the image-spec's
// structure) kept once and broken once, reported where it breaks.
func TestValidateDockerDocument(t *testing.T) {
	good := dockerManifest(dockerConfigDesc, dockerLayerDesc+","+dockerDesc(artifact.MediaTypeDockerForeignLayerGzip, `,"urls":["https://example.com/layer"]`), "")
	cases := []struct {
		name, mediaType, doc string
		rule                 string // "" for valid
	}{
		{"manifest", artifact.MediaTypeDockerManifest, good, ""},
		{"manifest without mediaType", artifact.MediaTypeDockerManifest, strings.Replace(good, `"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`, "", 1), "/"},
		{"manifest with the OCI mediaType", artifact.MediaTypeDockerManifest, strings.Replace(good, "application/vnd.docker.distribution.manifest.v2+json", ocispec.MediaTypeImageManifest, 1), "/mediaType"},
		{"manifest schemaVersion 1", artifact.MediaTypeDockerManifest, strings.Replace(good, `"schemaVersion":2`, `"schemaVersion":1`, 1), "/schemaVersion"},
		{"manifest without config", artifact.MediaTypeDockerManifest, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[` + dockerLayerDesc + `]}`, "/"},
		{"manifest without layers", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, "", ""), "/layers"},
		{"config without digest", artifact.MediaTypeDockerManifest, dockerManifest(`{"mediaType":"`+artifact.MediaTypeDockerConfig+`","size":7}`, dockerLayerDesc, ""), "/config"},
		{"layer without size", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, `{"mediaType":"`+artifact.MediaTypeDockerLayerGzip+`","digest":"`+okDigest+`"}`, ""), "/layers/0"},
		{"layer mediaType invalid", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, dockerDesc("tar.gzip", ""), ""), "/layers/0/mediaType"},
		{"layer negative size", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, strings.Replace(dockerLayerDesc, `"size":7`, `"size":-1`, 1), ""), "/layers/0"},
		{"layer sha256 digest not hex", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, strings.Replace(dockerLayerDesc, okDigest, "sha256:"+strings.Repeat("z", 64), 1), ""), "/layers/0"},
		{"layer url not absolute", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, dockerDesc(artifact.MediaTypeDockerForeignLayerGzip, `,"urls":["/relative"]`), ""), "/layers/0/urls/0"},
		{"trailing data", artifact.MediaTypeDockerManifest, good + "{}", "/"},

		{"list", artifact.MediaTypeDockerManifestList, dockerList(dockerListEntry + "," + dockerDesc(artifact.MediaTypeDockerManifest, `,"platform":{"architecture":"arm","os":"linux","variant":"v7"}`)), ""},
		{"empty list", artifact.MediaTypeDockerManifestList, dockerList(""), ""},
		{"list without mediaType", artifact.MediaTypeDockerManifestList, `{"schemaVersion":2,"manifests":[]}`, "/"},
		{"list with the OCI mediaType", artifact.MediaTypeDockerManifestList, strings.Replace(dockerList(""), artifact.MediaTypeDockerManifestList, ocispec.MediaTypeImageIndex, 1), "/mediaType"},
		{"list without manifests", artifact.MediaTypeDockerManifestList, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json"}`, "/"},
		{"list entry without platform", artifact.MediaTypeDockerManifestList, dockerList(dockerDesc(artifact.MediaTypeDockerManifest, "")), "/manifests/0"},
		{"list entry platform without os", artifact.MediaTypeDockerManifestList, dockerList(dockerDesc(artifact.MediaTypeDockerManifest, `,"platform":{"architecture":"amd64"}`)), "/manifests/0/platform"},
		{"list entry features not strings", artifact.MediaTypeDockerManifestList, dockerList(dockerDesc(artifact.MediaTypeDockerManifest, `,"platform":{"architecture":"amd64","os":"linux","features":[1]}`)), "/manifests/0/platform/features/0"},
		{"list entry without digest", artifact.MediaTypeDockerManifestList, dockerList(`{"mediaType":"` + artifact.MediaTypeDockerManifest + `","size":7,"platform":{"architecture":"amd64","os":"linux"}}`), "/manifests/0"},
		{"list entry negative size", artifact.MediaTypeDockerManifestList, dockerList(strings.Replace(dockerListEntry, `"size":7`, `"size":-7`, 1)), "/manifests/0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := artifact.ValidateDocument(tc.mediaType, []byte(tc.doc))
			if tc.rule == "" {
				if err != nil {
					t.Fatalf("valid document refused: %v", err)
				}
				return
			}
			var se *artifact.SchemaError
			if !errors.Is(err, artifact.ErrInvalidDocument) || !errors.As(err, &se) {
				t.Fatalf("got %v, want a SchemaError wrapping ErrInvalidDocument", err)
			}
			if se.MediaType != tc.mediaType || (tc.rule == "/" && se.Rule != "") || (tc.rule != "/" && se.Rule != tc.rule) {
				t.Errorf("reported %s at %q, want %s at %q (%v)", se.MediaType, se.Rule, tc.mediaType, tc.rule, err)
			}
		})
	}
	if !artifact.IsDockerDocument(artifact.MediaTypeDockerManifestList) || artifact.IsDockerDocument(artifact.MediaTypeDockerManifestV1Signed) || artifact.IsOCIDocument(artifact.MediaTypeDockerManifest) {
		t.Error("IsDockerDocument / IsOCIDocument")
	}
}

// Docker's documents as subjects: an image, a list (an index), the
// compat variant by layer type alone (an image that a caller expecting
// wasm reads with AsWasm) or by annotation (wasm); schema 1 refused as
// obsolete, by media type or by schemaVersion.
func TestParseSubjectDocker(t *testing.T) {
	const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	layer := func(mt string) string { return `{"mediaType":"` + mt + `","digest":"` + d1 + `","size":10}` }
	compatAnnotation := `,"annotations":{"module.wasm.image/variant":"compat"}`
	cases := []struct {
		name, mediaType, doc string
		kind                 artifact.SubjectKind
		compat               bool
		err                  error
	}{
		{"image", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, layer(artifact.MediaTypeDockerLayerGzip)+","+layer(artifact.MediaTypeDockerLayerGzip), ""), artifact.SubjectImage, false, nil},
		{"image with a foreign layer", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, layer(artifact.MediaTypeDockerForeignLayerGzip), ""), artifact.SubjectImage, false, nil},
		{"one-layer image: compat by layer type", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, layer(artifact.MediaTypeDockerLayerGzip), ""), artifact.SubjectImage, true, nil},
		{"annotated compat", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, layer(artifact.MediaTypeDockerLayerGzip), compatAnnotation), artifact.SubjectWasm, false, nil},
		{"annotated compat of two layers", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, layer(artifact.MediaTypeDockerLayerGzip)+","+layer(artifact.MediaTypeDockerLayerGzip), compatAnnotation), "", false, artifact.ErrNoWasmLayer},
		{"wasm layer", artifact.MediaTypeDockerManifest, dockerManifest(dockerConfigDesc, layer(artifact.MediaTypeWasm), ""), artifact.SubjectWasm, false, nil},
		{"list", artifact.MediaTypeDockerManifestList, dockerList(dockerListEntry), artifact.SubjectIndex, false, nil},
		{"list without its mediaType in the document", artifact.MediaTypeDockerManifestList, `{"schemaVersion":2,"manifests":[]}`, "", false, artifact.ErrInvalidManifest},
		{"list entry without platform", artifact.MediaTypeDockerManifestList, dockerList(dockerDesc(artifact.MediaTypeDockerManifest, "")), "", false, artifact.ErrInvalidDocument},
		{"image without config", artifact.MediaTypeDockerManifest, `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","layers":[]}`, "", false, artifact.ErrInvalidDocument},
		{"no mediaType in the document: read as an OCI manifest", artifact.MediaTypeDockerManifest, strings.Replace(dockerManifest(dockerConfigDesc, layer(artifact.MediaTypeDockerLayerGzip), ""), `"mediaType":"application/vnd.docker.distribution.manifest.v2+json",`, "", 1), artifact.SubjectImage, false, nil},
		{"schema 1 signed", artifact.MediaTypeDockerManifestV1Signed, `{"schemaVersion":1,"name":"library/x","tag":"v1","fsLayers":[],"signatures":[]}`, "", false, artifact.ErrObsoleteManifest},
		{"schema 1 by its schemaVersion", ocispec.MediaTypeImageManifest, `{"schemaVersion":1,"name":"library/x","tag":"v1","fsLayers":[]}`, "", false, artifact.ErrObsoleteManifest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			desc := ocispec.Descriptor{MediaType: tc.mediaType, Digest: digest.FromString(tc.doc), Size: int64(len(tc.doc))}
			s, err := artifact.ParseSubject(desc, []byte(tc.doc))
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				if errors.Is(tc.err, artifact.ErrObsoleteManifest) && !errors.Is(err, artifact.ErrInvalidManifest) {
					t.Errorf("schema 1 refusal without ErrInvalidManifest: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != tc.kind || (s.Compat != nil) != tc.compat {
				t.Fatalf("kind %s, compat %v; want %s, %v", s.Kind, s.Compat != nil, tc.kind, tc.compat)
			}
			if tc.compat {
				w := s.AsWasm()
				if w.Kind != artifact.SubjectWasm || w.Wasm == nil || w.Wasm.Shape != artifact.ShapeIstioCompat || !w.Wasm.Layers.Archive || s.Kind != artifact.SubjectImage {
					t.Errorf("AsWasm: %+v", w)
				}
			}
		})
	}
}

// The schema 1 refusal names itself: obsolete, what to do instead.
func TestParseManifestDockerSchema1(t *testing.T) {
	doc := []byte(`{"schemaVersion":1,"name":"library/x","tag":"v1","fsLayers":[]}`)
	_, err := artifact.ParseManifest(ocispec.Descriptor{MediaType: artifact.MediaTypeDockerManifestV1Signed, Digest: digest.FromBytes(doc), Size: int64(len(doc))}, doc)
	var mt *artifact.MediaTypeError
	if !errors.Is(err, artifact.ErrObsoleteManifest) || !errors.As(err, &mt) || !strings.Contains(err.Error(), "schema 1 is obsolete") {
		t.Fatalf("got %v", err)
	}
}

// FuzzValidateDockerDocument: any bytes as Docker's manifest or list are
// valid or a *SchemaError wrapping ErrInvalidDocument, never a panic;
// what is valid decodes into the image-spec's Go type, carries its own
// media type, sizes non-negative, every list entry a platform.
func FuzzValidateDockerDocument(f *testing.F) {
	types := []string{artifact.MediaTypeDockerManifest, artifact.MediaTypeDockerManifestList}
	f.Add(uint8(0), []byte(dockerManifest(dockerConfigDesc, dockerLayerDesc, "")))
	f.Add(uint8(1), []byte(dockerList(dockerListEntry)))
	f.Add(uint8(0), []byte(dockerManifest(dockerConfigDesc, dockerDesc(artifact.MediaTypeDockerForeignLayerGzip, `,"urls":["https://x/y"]`), "")))
	f.Fuzz(func(t *testing.T, which uint8, raw []byte) {
		mediaType := types[int(which)%len(types)]
		err := artifact.ValidateDocument(mediaType, raw)
		if err != nil {
			var se *artifact.SchemaError
			if !errors.Is(err, artifact.ErrInvalidDocument) || !errors.As(err, &se) {
				t.Fatalf("error without a SchemaError: %v", err)
			}
			return
		}
		var head struct {
			MediaType string `json:"mediaType"`
		}
		if json.NewDecoder(bytes.NewReader(raw)).Decode(&head) != nil || head.MediaType != mediaType {
			t.Fatalf("valid %s that does not carry its own mediaType: %s", mediaType, raw)
		}
		var descs []ocispec.Descriptor
		if mediaType == artifact.MediaTypeDockerManifest {
			var m ocispec.Manifest
			if json.Unmarshal(raw, &m) != nil || len(m.Layers) == 0 {
				t.Fatalf("valid manifest does not decode, or has no layer: %s", raw)
			}
			descs = append(m.Layers, m.Config)
		} else {
			var idx ocispec.Index
			if json.Unmarshal(raw, &idx) != nil {
				t.Fatalf("valid list does not decode: %s", raw)
			}
			for _, d := range idx.Manifests {
				if d.Platform == nil {
					t.Fatalf("valid list with an entry without platform: %s", raw)
				}
			}
			descs = idx.Manifests
		}
		for _, d := range descs {
			if d.Size < 0 {
				t.Fatalf("valid document with a negative size: %s", raw)
			}
		}
	})
}
