package artifact

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types of Spin applications as `spin registry push` writes them
// (fermyon/spin crates/oci). The wasm layers are
// [MediaTypeWasmContentLayer], one per component.
const (
	// MediaTypeSpinApp is the locked application (JSON): the config of
	// Spin 1.x pushes, the last layer of Spin 2 and later.
	MediaTypeSpinApp = "application/vnd.fermyon.spin.application.v1+config"
	// MediaTypeSpinData is a static file a component mounts.
	MediaTypeSpinData = "application/vnd.wasm.content.layer.v1+data"
	// MediaTypeSpinArchive is a tar+gzip of a component's files, pushed
	// instead of one layer per file by large apps.
	MediaTypeSpinArchive = "application/vnd.wasm.content.bundle.v1.tar+gzip"
)

// Roles of a Spin application's other layers.
const (
	RoleData LayerRole = "data" // a static file or an archive of them
	RoleApp  LayerRole = "app"  // the locked application
)

// MaxSpinComponents bounds the components of a locked application, and
// MaxSpinLayers a Spin application's layers: Spin itself stops at 500
// (ECR's limit), and every layer is a request verify makes.
const (
	MaxSpinComponents = 256
	MaxSpinLayers     = 500
)

// isSpin: the manifest is a Spin application, by its config or a layer.
func isSpin(m ocispec.Manifest) bool {
	if m.Config.MediaType == MediaTypeSpinApp {
		return true
	}
	return slices.ContainsFunc(m.Layers, func(d ocispec.Descriptor) bool { return d.MediaType == MediaTypeSpinApp })
}

// classifySpin sorts a Spin application's layers: every wasm layer is a
// component (Wasm is set when there is exactly one), data and archive
// layers are data, one layer may be the locked application.
func classifySpin(m ocispec.Manifest) (Layers, error) {
	if len(m.Layers) > MaxSpinLayers {
		return Layers{}, &FormatError{What: "layers", Err: fmt.Errorf("%w: %d layers, more than %d", ErrInvalidSpinApp, len(m.Layers), MaxSpinLayers)}
	}
	var l Layers
	for i, d := range m.Layers {
		switch {
		case d.MediaType == MediaTypeSpinApp:
			if l.LockedApp != nil || m.Config.MediaType == MediaTypeSpinApp {
				return Layers{}, &FormatError{What: fmt.Sprintf("layer %d", i), Err: fmt.Errorf("%w: a second locked application", ErrInvalidSpinApp)}
			}
			l.LockedApp = &m.Layers[i]
		case RoleOf(d.MediaType) == RoleWasm:
			l.Components = append(l.Components, d)
		case d.MediaType == MediaTypeSpinData || d.MediaType == MediaTypeSpinArchive:
			l.Data = append(l.Data, d)
		case RoleOf(d.MediaType) == RolePolicy && l.Policy == nil:
			l.Policy = &m.Layers[i]
		default:
			l.Unknown = append(l.Unknown, d)
		}
	}
	switch len(l.Components) {
	case 0:
		return Layers{}, &MediaTypeError{What: "layers of a Spin application", Found: "no component", Expected: []string{MediaTypeWasmContentLayer}, Err: ErrNoWasmLayer}
	case 1:
		l.Wasm = l.Components[0]
	}
	if len(l.Components) > MaxSpinComponents {
		return Layers{}, &FormatError{What: "layers", Err: fmt.Errorf("%w: %d components, more than %d", ErrInvalidSpinApp, len(l.Components), MaxSpinComponents)}
	}
	return l, nil
}

// LockedApp is what wasmgate reads of a Spin locked application: each
// component and the layers it names.
type LockedApp struct {
	Components []SpinComponent
}

// SpinComponent is one component of a Spin application.
type SpinComponent struct {
	ID string `json:"id"`
	// Source is the digest of the wasm layer the component runs.
	Source digest.Digest `json:"digest"`
	Size   int64         `json:"size"`
	Kind   Kind          `json:"kind,omitempty"`
	// Files are the digests of the data the component mounts (a file in
	// an archive layer has no layer of its own).
	Files []digest.Digest `json:"-"`
	// Dependencies are the digests of the wasm layers of the
	// components it is composed with (Spin 3).
	Dependencies []digest.Digest `json:"-"`
}

// spinID is Spin's component id: kebab-case words of letters and digits
// (the manifest's component names), at most 64 bytes here.
var spinID = regexp.MustCompile(`^[a-zA-Z0-9]+(?:[-_][a-zA-Z0-9]+)*$`)

type contentRef struct {
	Source *string        `json:"source"`
	Inline *string        `json:"inline"`
	Digest *digest.Digest `json:"digest"`
}

// ParseLockedApp parses a Spin locked application (spin_lock_version 0 or
// 1) as a pushed one must be: every component's source and every
// dependency named by digest alone (no URL, no inline bytes), each file by
// digest or inline, component ids unique and usable as file names. Unknown
// fields are tolerated, as Spin tolerates them. Errors wrap
// [ErrInvalidSpinApp].
func ParseLockedApp(raw []byte) (*LockedApp, error) {
	var doc struct {
		Version    *json.Number `json:"spin_lock_version"`
		Components []struct {
			ID     string `json:"id"`
			Source struct {
				ContentType string `json:"content_type"`
				contentRef
			} `json:"source"`
			Files []struct {
				contentRef
				Path string `json:"path"`
			} `json:"files"`
			Dependencies map[string]struct {
				Source struct {
					contentRef
				} `json:"source"`
			} `json:"dependencies"`
		} `json:"components"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, spinErr("not JSON of a locked application: %w", err)
	}
	if dec.More() {
		return nil, spinErr("trailing data after the JSON document")
	}
	if doc.Version == nil || (doc.Version.String() != "0" && doc.Version.String() != "1") {
		return nil, spinErr("spin_lock_version must be 0 or 1")
	}
	if len(doc.Components) == 0 || len(doc.Components) > MaxSpinComponents {
		return nil, spinErr("%d components; a Spin application has 1 to %d", len(doc.Components), MaxSpinComponents)
	}
	app := &LockedApp{}
	seen := map[string]bool{}
	for _, c := range doc.Components {
		if len(c.ID) > 64 || !spinID.MatchString(c.ID) || seen[c.ID] {
			return nil, spinErr("component id %q: not a unique Spin component id", c.ID)
		}
		seen[c.ID] = true
		src, err := layerRef(c.Source.contentRef, false)
		if err != nil {
			return nil, spinErr("component %q source: %w", c.ID, err)
		}
		sc := SpinComponent{ID: c.ID, Source: src}
		for _, f := range c.Files {
			d, err := layerRef(f.contentRef, true)
			if err != nil {
				return nil, spinErr("component %q file %q: %w", c.ID, f.Path, err)
			}
			if d != "" {
				sc.Files = append(sc.Files, d)
			}
		}
		for _, name := range sortedKeys(c.Dependencies) {
			d, err := layerRef(c.Dependencies[name].Source.contentRef, false)
			if err != nil {
				return nil, spinErr("component %q dependency %q: %w", c.ID, name, err)
			}
			sc.Dependencies = append(sc.Dependencies, d)
		}
		app.Components = append(app.Components, sc)
	}
	return app, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// layerRef is the digest a content reference names; inline content
// (allowed for files only) has none.
func layerRef(r contentRef, inlineOK bool) (digest.Digest, error) {
	switch {
	case r.Source != nil:
		return "", fmt.Errorf("names a source URL; a pushed application names content by digest")
	case r.Inline != nil && r.Digest == nil && inlineOK:
		return "", nil
	case r.Digest == nil:
		return "", fmt.Errorf("names no digest")
	}
	if err := r.Digest.Validate(); err != nil {
		return "", fmt.Errorf("digest %q: %w", *r.Digest, err)
	}
	return *r.Digest, nil
}

// Check matches the locked application against its manifest's layers:
// every component source and dependency is a wasm layer of the manifest,
// every file a data layer (unless an archive layer carries the files),
// and every wasm layer is named by a component: nothing runs that the
// locked application does not name, nothing it names is missing. It fills
// each component's Size.
func (a *LockedApp) Check(l Layers) error {
	wasm := map[digest.Digest]ocispec.Descriptor{}
	for _, d := range l.Components {
		wasm[d.Digest] = d
	}
	data, archive := map[digest.Digest]bool{}, false
	for _, d := range l.Data {
		data[d.Digest] = true
		archive = archive || d.MediaType == MediaTypeSpinArchive
	}
	named := map[digest.Digest]bool{}
	for i, c := range a.Components {
		d, ok := wasm[c.Source]
		if !ok {
			return spinErr("component %q names layer %s, which is not a wasm layer of the manifest", c.ID, c.Source)
		}
		a.Components[i].Size = d.Size
		named[c.Source] = true
		for _, dep := range c.Dependencies {
			if _, ok := wasm[dep]; !ok {
				return spinErr("component %q depends on layer %s, which is not a wasm layer of the manifest", c.ID, dep)
			}
			named[dep] = true
		}
		for _, f := range c.Files {
			if !data[f] && !archive {
				return spinErr("component %q mounts layer %s, which is not a data layer of the manifest", c.ID, f)
			}
		}
	}
	for _, d := range l.Components {
		if !named[d.Digest] {
			return spinErr("wasm layer %s is named by no component", d.Digest)
		}
	}
	return nil
}

// Component returns the component named id.
func (a *LockedApp) Component(id string) (SpinComponent, bool) {
	i := slices.IndexFunc(a.Components, func(c SpinComponent) bool { return c.ID == id })
	if i < 0 {
		return SpinComponent{}, false
	}
	return a.Components[i], true
}

// IDs are the component ids, in the locked application's order.
func (a *LockedApp) IDs() []string {
	ids := make([]string, len(a.Components))
	for i, c := range a.Components {
		ids[i] = c.ID
	}
	return ids
}

func spinErr(format string, args ...any) error {
	return &FormatError{What: "Spin locked application", Err: fmt.Errorf("%w: "+format, append([]any{ErrInvalidSpinApp}, args...)...)}
}
