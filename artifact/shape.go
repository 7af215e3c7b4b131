package artifact

import (
	"fmt"
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Shape names the publisher layout a wasm artifact was read as. It is
// description, not trust: every shape goes through the same checks.
type Shape string

const (
	// ShapeWasm: one raw wasm layer under a wasm or neutral config, as
	// wkg, the CNCF TAG-Runtime layout, `oras push`, wasm-to-oci and
	// wasmgate write.
	ShapeWasm Shape = "wasm"
	// ShapeWasme: solo.io's WASM Artifact Image Specification (wasme),
	// Istio's "oci" variant: config [MediaTypeWasmeConfig], layer
	// [MediaTypeWasmeLayer].
	ShapeWasme Shape = "wasme"
	// ShapeIstioCompat: Istio's "compat" variant: an OCI container image
	// annotated module.wasm.image/variant=compat whose one tar+gzip layer
	// holds plugin.wasm (and optionally runtime-config.json), or a Docker
	// image of one Docker tar+gzip layer holding them (no annotation).
	ShapeIstioCompat Shape = "istio-compat"
	// ShapeRunwasi: an OCI image as runwasi's oci-tar-builder writes it
	// for containerd's wasm shims: an OCI image config (os wasi/wasip1/
	// wasip2, architecture wasm) and the wasm as a layer typed
	// [MediaTypeW3CModule] (or a component type), not in a tar.
	ShapeRunwasi Shape = "runwasi"
	// ShapeSpin: a Spin application as `spin registry push` writes it:
	// one wasm layer per component, data layers, and the locked
	// application (config in Spin 1.x, a layer since) that names each
	// component's layer by digest.
	ShapeSpin Shape = "spin"
	// ShapeWasmCloud: a wasmCloud actor as `wash push` writes it: config
	// [MediaTypeWasmCloudActorConfig], the module as
	// [MediaTypeWasmeLayer] (or the older [MediaTypeWasmCloudActorLayer]).
	ShapeWasmCloud Shape = "wasmcloud-actor"
)

// isCompat: the manifest is Istio's compat variant: it says so by
// annotation, or it is a Docker image of exactly one Docker tar+gzip
// layer, which solo-io/wasm spec/spec-compat.md reads as compat with no
// annotation (Istio's image fetcher reads any such Docker image as one).
// Only the layer tells whether it holds plugin.wasm.
func isCompat(m ocispec.Manifest) bool {
	return annotatedCompat(m) || isDockerCompat(m)
}

// annotatedCompat: the manifest declares itself the compat variant.
func annotatedCompat(m ocispec.Manifest) bool {
	return m.Annotations[AnnotationWasmVariant] == WasmVariantCompat
}

// isDockerCompat: a Docker image manifest whose one layer is a Docker
// tar+gzip, the compat variant's Docker form.
func isDockerCompat(m ocispec.Manifest) bool {
	return m.MediaType == MediaTypeDockerManifest && len(m.Layers) == 1 && m.Layers[0].MediaType == MediaTypeDockerLayerGzip
}

// classifyCompat accepts exactly one tar+gzip layer (the image-spec's or
// Docker's), as the compat spec requires; the annotation alone never
// makes other layers wasm.
func classifyCompat(m ocispec.Manifest) (Layers, error) {
	if len(m.Layers) != 1 || (m.Layers[0].MediaType != MediaTypeImageLayerGzip && m.Layers[0].MediaType != MediaTypeDockerLayerGzip) {
		found := make([]string, 0, len(m.Layers))
		for _, d := range m.Layers {
			found = append(found, d.MediaType)
		}
		return Layers{}, &MediaTypeError{What: fmt.Sprintf("layers of a %s=%s image", AnnotationWasmVariant, WasmVariantCompat),
			Found: fmt.Sprint(found), Expected: []string{"exactly one " + MediaTypeImageLayerGzip, "exactly one " + MediaTypeDockerLayerGzip}, Err: ErrNoWasmLayer}
	}
	return Layers{Wasm: m.Layers[0], Archive: true}, nil
}

func shapeOf(m ocispec.Manifest, l Layers) Shape {
	switch {
	case l.Archive:
		return ShapeIstioCompat
	case isSpin(m):
		return ShapeSpin
	case m.Config.MediaType == MediaTypeWasmCloudActorConfig || l.Wasm.MediaType == MediaTypeWasmCloudActorLayer:
		return ShapeWasmCloud
	case m.Config.MediaType == MediaTypeWasmeConfig || m.ArtifactType == MediaTypeWasmeConfig || l.Wasm.MediaType == MediaTypeWasmeLayer:
		return ShapeWasme
	case m.Config.MediaType == ocispec.MediaTypeImageConfig && m.ArtifactType == "" &&
		slices.Contains([]string{MediaTypeW3CModule, MediaTypeW3CComponent, MediaTypeWasmComponentV1Wasm}, l.Wasm.MediaType):
		return ShapeRunwasi
	default:
		return ShapeWasm
	}
}

// LayerRole is the role layer d plays in m as its shape classified it:
// a compat archive and every Spin component are wasm, Spin's data and
// locked-app layers data and app, wasme's repeated config config.
func (m *Manifest) LayerRole(d ocispec.Descriptor) LayerRole {
	l := m.Layers
	is := func(p *ocispec.Descriptor) bool { return p != nil && p.Digest == d.Digest }
	in := func(ds []ocispec.Descriptor) bool {
		for _, x := range ds {
			if x.Digest == d.Digest {
				return true
			}
		}
		return false
	}
	switch {
	case (l.Wasm.Digest != "" && d.Digest == l.Wasm.Digest) || in(l.Components):
		return RoleWasm
	case is(l.Policy):
		return RolePolicy
	case is(l.Config):
		return RoleConfig
	case is(l.LockedApp):
		return RoleApp
	case in(l.Data):
		return RoleData
	default:
		return RoleUnknown
	}
}
