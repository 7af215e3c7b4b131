package artifact

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// SubjectKind is what an OCI subject is, as a trust policy names it.
type SubjectKind string

const (
	// SubjectWasm: an image manifest that is a wasm artifact
	// ([ParseManifest] accepts it).
	SubjectWasm SubjectKind = "wasm"
	// SubjectImage: an image manifest whose config is an OCI image config
	// and that declares no artifactType: a container image.
	SubjectImage SubjectKind = "image"
	// SubjectArtifact: any other image manifest (a Helm chart, an SBOM, an
	// OCI 1.1 artifact of any type).
	SubjectArtifact SubjectKind = "artifact"
	// SubjectIndex: an image index (a multi-platform image).
	SubjectIndex SubjectKind = "index"
)

// SubjectKinds are every kind, in the order documents name them.
func SubjectKinds() []SubjectKind {
	return []SubjectKind{SubjectWasm, SubjectImage, SubjectIndex, SubjectArtifact}
}

// Subject is a manifest or an index of any kind, validated against the
// image-spec. Raw holds the exact bytes whose digest is Descriptor.Digest.
type Subject struct {
	Kind       SubjectKind
	Descriptor ocispec.Descriptor
	Raw        []byte
	// Wasm is set for SubjectWasm: the manifest parsed and classified.
	Wasm *Manifest
	// Manifest is set for every image manifest (wasm, image, artifact).
	Manifest *ocispec.Manifest
	// Index is set for SubjectIndex (an image index or a Docker manifest
	// list).
	Index *ocispec.Index
	// Compat is set for a SubjectImage that may be Istio's compat variant
	// in its Docker form (one Docker tar+gzip layer, no annotation): the
	// manifest read as that shape. Whether it is wasm only its layer
	// tells; [Subject.AsWasm] reads it as wasm for a caller that expects it.
	Compat *Manifest
}

// AsWasm is s read as the Docker compat variant (a SubjectWasm whose
// Wasm is s.Compat); s itself when s.Compat is nil.
func (s *Subject) AsWasm() *Subject {
	if s.Compat == nil {
		return s
	}
	w := *s
	w.Kind, w.Wasm, w.Compat = SubjectWasm, s.Compat, nil
	return &w
}

// ArtifactType is the subject's artifactType, else its config media type
// (for a manifest), as OCI 1.1 defines it.
func (s *Subject) ArtifactType() string {
	switch {
	case s.Manifest != nil && s.Manifest.ArtifactType != "":
		return s.Manifest.ArtifactType
	case s.Manifest != nil:
		return s.Manifest.Config.MediaType
	case s.Index != nil:
		return s.Index.ArtifactType
	}
	return ""
}

// ParseSubject parses raw, fetched and verified by desc, as an OCI image
// manifest or image index of any kind and says which kind it is. Every
// document is validated against the image-spec. A manifest that declares
// a wasm artifact (by artifactType or config media type) must be a valid
// one: its errors are [ParseManifest]'s. Docker's schema 2 manifest and
// manifest list are read as an image manifest and an index, validated by
// the same rules (see [ValidateDocument]); Docker's schema 1 is refused
// with [ErrObsoleteManifest], anything else with [ErrInvalidManifest].
func ParseSubject(desc ocispec.Descriptor, raw []byte) (*Subject, error) {
	what := "manifest " + desc.Digest.String()
	var head struct {
		MediaType     string `json:"mediaType"`
		SchemaVersion any    `json:"schemaVersion"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&head); err != nil {
		return nil, &FormatError{What: what, Err: fmt.Errorf("%w: not JSON: %w", ErrInvalidManifest, err)}
	}
	mt := head.MediaType
	if mt == "" {
		mt = desc.MediaType
	}
	if isObsolete(mt) || head.SchemaVersion == float64(1) {
		return nil, obsolete(what, head.MediaType)
	}
	s := &Subject{Descriptor: desc, Raw: raw}
	switch mt {
	case ocispec.MediaTypeImageIndex, MediaTypeDockerManifestList:
		if head.MediaType == "" {
			// The image-spec wants an index's mediaType in the document:
			// a descriptor's type alone could be swapped by whoever serves it.
			return nil, &FormatError{What: what, Err: fmt.Errorf("%w: an image index must carry mediaType %q", ErrInvalidManifest, mt)}
		}
		if err := ValidateDocument(mt, raw); err != nil {
			return nil, &FormatError{What: what, Err: fmt.Errorf("%w: %w", ErrInvalidManifest, err)}
		}
		var idx ocispec.Index
		if err := json.Unmarshal(raw, &idx); err != nil {
			return nil, &FormatError{What: what, Err: fmt.Errorf("%w: %w", ErrInvalidManifest, err)}
		}
		s.Kind, s.Index = SubjectIndex, &idx
		return s, nil
	case "", ocispec.MediaTypeImageManifest, MediaTypeDockerManifest:
	default:
		return nil, &MediaTypeError{What: "manifest mediaType", Found: mt,
			Expected: []string{ocispec.MediaTypeImageManifest, ocispec.MediaTypeImageIndex, MediaTypeDockerManifest, MediaTypeDockerManifestList}, Err: ErrInvalidManifest}
	}
	m, err := ParseManifest(desc, raw)
	if err == nil && m.Shape == ShapeIstioCompat && !annotatedCompat(m.OCI) {
		// A Docker image of one layer: wasm only if that layer holds
		// plugin.wasm, which the manifest cannot say. It is an image; a
		// caller that expects wasm reads it as Compat.
		s.Kind, s.Manifest, s.Compat = SubjectImage, &m.OCI, m
		return s, nil
	}
	if err == nil {
		s.Kind, s.Wasm, s.Manifest = SubjectWasm, m, &m.OCI
		return s, nil
	}
	if !errors.Is(err, ErrNotWasmArtifact) && !errors.Is(err, ErrNoWasmLayer) {
		return nil, err
	}
	// ParseManifest validated the document before it looked for wasm.
	var om ocispec.Manifest
	if uerr := json.Unmarshal(raw, &om); uerr != nil {
		return nil, &FormatError{What: what, Err: fmt.Errorf("%w: %w", ErrInvalidManifest, uerr)}
	}
	if declaresWasm(om) {
		// It says it is wasm and is not a valid wasm artifact: that is a
		// broken wasm artifact, never an artifact of another kind.
		return nil, err
	}
	s.Manifest = &om
	s.Kind = SubjectArtifact
	if om.ArtifactType == "" && (om.Config.MediaType == ocispec.MediaTypeImageConfig || om.Config.MediaType == MediaTypeDockerConfig) {
		s.Kind = SubjectImage
	}
	return s, nil
}

// declaresWasm: the manifest names a wasm artifactType or config type, or
// carries Istio's compat annotation.
func declaresWasm(m ocispec.Manifest) bool {
	return slices.Contains(wasmArtifactTypes, m.ArtifactType) || slices.Contains(wasmConfigTypes, m.Config.MediaType) || annotatedCompat(m) || isSpin(m)
}
