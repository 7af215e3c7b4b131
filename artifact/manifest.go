package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Config is the wasm config blob, with the fields wkg writes.
type Config struct {
	Created      *time.Time `json:"created,omitempty"`
	Author       string     `json:"author,omitempty"`
	Architecture string     `json:"architecture"`
	OS           string     `json:"os"`
	LayerDigests []string   `json:"layerDigests,omitempty"`
	// Component is wkg's optional description of a component's world
	// ({"imports": [...], "exports": [...], "target": ...}), kept verbatim;
	// [Config.CheckComponent] compares its imports with the binary's.
	Component json.RawMessage `json:"component,omitempty"`
}

// Layers is a manifest's layers sorted by role.
type Layers struct {
	Wasm ocispec.Descriptor
	// Archive: Wasm is not the module itself but a tar+gzip layer holding
	// plugin.wasm (Istio's compat variant); read it with [ExtractCompat].
	Archive bool
	Policy  *ocispec.Descriptor // nil when the artifact has no policy layer
	// Config is the layer that repeats the manifest's config (wasme's
	// runtime-config.json), nil without one. It is checked as the config.
	Config *ocispec.Descriptor
	// Components are every wasm layer of a Spin application, one per
	// component (Wasm is set only when there is one); Data its data and
	// archive layers; LockedApp the layer that holds the locked
	// application (nil when the config does, as Spin 1.x pushed it).
	Components []ocispec.Descriptor
	Data       []ocispec.Descriptor
	LockedApp  *ocispec.Descriptor
	Unknown    []ocispec.Descriptor // reported, never written out
}

// Manifest is a parsed, classified wasm artifact manifest. Raw holds the
// exact bytes whose digest is Descriptor.Digest.
type Manifest struct {
	Descriptor ocispec.Descriptor
	Raw        []byte
	OCI        ocispec.Manifest
	Layers     Layers
	// Shape is the publisher layout the manifest was read as.
	Shape Shape
}

// ArtifactType is the manifest's artifactType, else its config media type,
// as OCI 1.1 defines it.
func (m *Manifest) ArtifactType() string {
	if m.OCI.ArtifactType != "" {
		return m.OCI.ArtifactType
	}
	return m.OCI.Config.MediaType
}

// ParseManifest parses raw as an OCI image manifest (or Docker's schema 2
// image manifest, read the same way) and classifies its layers. desc is the descriptor raw was fetched and verified by. It
// returns an error wrapping [ErrInvalidManifest], [ErrNotWasmArtifact],
// [ErrNoWasmLayer], [ErrMultipleWasm], [ErrMultiplePolicies] or, for a
// Spin application, [ErrInvalidSpinApp].
func ParseManifest(desc ocispec.Descriptor, raw []byte) (*Manifest, error) {
	what := "manifest " + desc.Digest.String()
	var m ocispec.Manifest
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&m); err != nil {
		return nil, &FormatError{What: what, Err: fmt.Errorf("%w: not JSON: %w", ErrInvalidManifest, err)}
	}
	if dec.More() {
		return nil, &FormatError{What: what, Err: fmt.Errorf("%w: trailing data after the JSON document", ErrInvalidManifest)}
	}
	if m.SchemaVersion == 1 {
		return nil, obsolete(what, m.MediaType)
	}
	if m.SchemaVersion != 2 {
		return nil, &FormatError{What: what, Err: fmt.Errorf("%w: schemaVersion is %d, expected 2", ErrInvalidManifest, m.SchemaVersion)}
	}
	docType := ocispec.MediaTypeImageManifest
	switch {
	case m.MediaType == MediaTypeDockerManifest:
		docType = MediaTypeDockerManifest
	case isObsolete(m.MediaType):
		return nil, obsolete(what, m.MediaType)
	case m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest:
		return nil, &MediaTypeError{What: "manifest mediaType", Found: m.MediaType,
			Expected: []string{ocispec.MediaTypeImageManifest, MediaTypeDockerManifest}, Err: ErrNotWasmArtifact}
	}
	if err := ValidateDocument(docType, raw); err != nil {
		return nil, &FormatError{What: what, Err: fmt.Errorf("%w: %w", ErrInvalidManifest, err)}
	}
	if err := identify(m); err != nil {
		return nil, err
	}
	layers, err := classify(m)
	if err != nil {
		return nil, err
	}
	return &Manifest{Descriptor: desc, Raw: raw, OCI: m, Layers: layers, Shape: shapeOf(m, layers)}, nil
}

// identify checks that the manifest declares a wasm artifact: by
// artifactType when present, else by config media type. A neutral config
// (image config or empty) leaves the decision to the layers.
func identify(m ocispec.Manifest) error {
	if m.ArtifactType != "" {
		if !slices.Contains(wasmArtifactTypes, m.ArtifactType) {
			return &MediaTypeError{What: "artifactType", Found: m.ArtifactType, Expected: wasmArtifactTypes, Err: ErrNotWasmArtifact}
		}
		return nil
	}
	if m.MediaType == MediaTypeDockerManifest && m.Config.MediaType == MediaTypeDockerConfig {
		// Docker's image config, neutral in a Docker image (the compat
		// variant built with docker); in an OCI manifest it stays what it
		// was, a container image's.
		return nil
	}
	if !slices.Contains(ConfigTypes(), m.Config.MediaType) {
		return &MediaTypeError{What: "config mediaType", Found: m.Config.MediaType, Expected: ConfigTypes(), Err: ErrNotWasmArtifact}
	}
	return nil
}

func classify(m ocispec.Manifest) (Layers, error) {
	if isCompat(m) {
		return classifyCompat(m)
	}
	if isSpin(m) {
		return classifySpin(m)
	}
	descs := m.Layers
	var l Layers
	var wasm []ocispec.Descriptor
	for i, d := range descs {
		switch RoleOf(d.MediaType) {
		case RoleWasm:
			wasm = append(wasm, d)
		case RolePolicy:
			if l.Policy != nil {
				return Layers{}, &FormatError{What: fmt.Sprintf("layer %d", i),
					Err: fmt.Errorf("%w: %s and %s", ErrMultiplePolicies, l.Policy.Digest, d.Digest)}
			}
			l.Policy = &descs[i]
		case RoleConfig:
			if d.Digest != m.Config.Digest || d.Size != m.Config.Size || l.Config != nil {
				return Layers{}, &FormatError{What: fmt.Sprintf("layer %d", i),
					Err: fmt.Errorf("%w: a %s layer must repeat the config (%s), once; it is %s", ErrInvalidManifest, d.MediaType, m.Config.Digest, d.Digest)}
			}
			l.Config = &descs[i]
		default:
			l.Unknown = append(l.Unknown, d)
		}
	}
	switch len(wasm) {
	case 0:
		found := make([]string, 0, len(descs))
		for _, d := range descs {
			found = append(found, d.MediaType)
		}
		return Layers{}, &MediaTypeError{What: "layers", Found: fmt.Sprint(found), Expected: wasmLayerTypes, Err: ErrNoWasmLayer}
	case 1:
		l.Wasm = wasm[0]
		return l, nil
	default:
		return Layers{}, &FormatError{What: "layers", Err: fmt.Errorf("%w: %d layers carry wasm media types; wasmgate reads single-binary artifacts", ErrMultipleWasm, len(wasm))}
	}
}

// ParseConfig decodes a wasm config. Neutral configs (an image config or
// the empty descriptor) yield a zero Config. Unknown fields are tolerated,
// since other publishers add their own.
func ParseConfig(desc ocispec.Descriptor, raw []byte) (Config, error) {
	var c Config
	if desc.MediaType == ocispec.MediaTypeImageConfig || desc.MediaType == MediaTypeDockerConfig {
		// Docker's image config is the image-spec's ancestor: the same
		// rules read it (its extra fields are allowed by both).
		if err := ValidateDocument(ocispec.MediaTypeImageConfig, raw); err != nil {
			return c, &FormatError{What: "config " + desc.Digest.String(), Err: fmt.Errorf("%w: %w", ErrInvalidConfig, err)}
		}
		// The platform an image config names (runwasi's os wasi and
		// architecture wasm; a compat image's linux/amd64) is reported,
		// never checked: the layers decide what the artifact is.
		var img ocispec.Image
		if err := json.Unmarshal(raw, &img); err == nil {
			c.Architecture, c.OS = img.Architecture, img.OS
		}
		return c, nil
	}
	if !slices.Contains(wasmConfigTypes, desc.MediaType) {
		return c, nil
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, &FormatError{What: "config " + desc.Digest.String(), Err: fmt.Errorf("%w: %w", ErrInvalidConfig, err)}
	}
	if c.Architecture != "" && c.Architecture != "wasm" {
		return c, &FormatError{What: "config " + desc.Digest.String(),
			Err: fmt.Errorf("%w: architecture is %q, expected \"wasm\"", ErrInvalidConfig, c.Architecture)}
	}
	return c, nil
}

// BuildOptions shape a manifest built by [BuildManifest].
type BuildOptions struct {
	// Created is written to the config and as the manifest's
	// org.opencontainers.image.created annotation. The zero value omits
	// both, so the same inputs always give the same digest.
	Created time.Time
	// Annotations are added to the manifest.
	Annotations map[string]string
}

// BuildManifest makes the config and the manifest of a wasm artifact in
// the shape wkg writes: config [MediaTypeConfig] with architecture wasm,
// the os for kind and the layer digests; layers the wasm and, when given,
// the policy.
func BuildManifest(wasm ocispec.Descriptor, kind Kind, policy *ocispec.Descriptor, opts BuildOptions) (config ocispec.Descriptor, configJSON []byte, manifestJSON []byte, err error) {
	layers := []ocispec.Descriptor{wasm}
	if policy != nil {
		layers = append(layers, *policy)
	}
	cfg := Config{Architecture: "wasm", OS: kind.OS()}
	for _, l := range layers {
		cfg.LayerDigests = append(cfg.LayerDigests, l.Digest.String())
	}
	annotations := map[string]string{}
	if !opts.Created.IsZero() {
		t := opts.Created.UTC()
		cfg.Created = &t
		annotations[ocispec.AnnotationCreated] = t.Format(time.RFC3339)
	}
	for k, v := range opts.Annotations {
		annotations[k] = v
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	if configJSON, err = json.Marshal(cfg); err != nil {
		return ocispec.Descriptor{}, nil, nil, err
	}
	config = ocispec.Descriptor{MediaType: MediaTypeConfig, Digest: digest.FromBytes(configJSON), Size: int64(len(configJSON))}
	m := ocispec.Manifest{
		Versioned:   specs.Versioned{SchemaVersion: 2},
		MediaType:   ocispec.MediaTypeImageManifest,
		Config:      config,
		Layers:      layers,
		Annotations: annotations,
	}
	if manifestJSON, err = json.Marshal(m); err != nil {
		return ocispec.Descriptor{}, nil, nil, err
	}
	return config, configJSON, manifestJSON, nil
}
