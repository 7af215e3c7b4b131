package artifact

import (
	"slices"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Media types that wasmgate writes.
const (
	// MediaTypeConfig is the config media type wkg and the CNCF TAG-Runtime
	// wasm layout use; wasmgate writes it on push.
	MediaTypeConfig = "application/vnd.wasm.config.v0+json"
	// MediaTypeWasm is the layer media type of a wasm module or component.
	MediaTypeWasm = "application/wasm"
	// MediaTypePolicy is the layer media type of the permission policy
	// (Wassette policy v1.0 YAML).
	MediaTypePolicy = "application/vnd.wasm.policy.v1+yaml"
)

// Media types that wasmgate also reads, written by other tools.
const (
	MediaTypeConfigV1              = "application/vnd.wasm.config.v1+json"
	MediaTypeComponentV1           = "application/vnd.wasm.component.v1"
	MediaTypeBytecodeAllianceLayer = "application/vnd.bytecodealliance.wasm.component.layer.v0+wasm"
	MediaTypeWasmContentLayer      = "application/vnd.wasm.content.layer.v1+wasm"
	MediaTypeWassettePolicy        = "application/vnd.wassette.policy+yaml"
	// MediaTypeWasmeConfig and MediaTypeWasmeLayer are solo.io's "WASM
	// Artifact Image Specification" (wasme), which Istio's WasmPlugin
	// reads as its "oci" variant: a runtime config (type, abiVersions,
	// config.root_ids) and the raw module.
	MediaTypeWasmeConfig = "application/vnd.module.wasm.config.v1+json"
	MediaTypeWasmeLayer  = "application/vnd.module.wasm.content.layer.v1+wasm"
	// MediaTypeW3CModule and MediaTypeWasmComponentV1Wasm are the layers
	// of runwasi's OCI images (containerd's wasm shims): an OCI image
	// config (os wasi, wasip1 or wasip2; architecture wasm) over the module
	// or component as a layer of its own, not in a tar.
	MediaTypeW3CModule           = "application/vnd.w3c.wasm.module.v1+wasm"
	MediaTypeW3CComponent        = "application/vnd.w3c.wasm.component.v1+wasm"
	MediaTypeWasmComponentV1Wasm = "application/vnd.wasm.component.v1+wasm"
	// MediaTypeWasmCloudActorConfig is the config of a wasmCloud actor
	// as `wash push` writes it ({} unless a config file is given); its
	// layer is [MediaTypeWasmeLayer]. MediaTypeWasmCloudActorLayer is the
	// older actor-archive layer type.
	MediaTypeWasmCloudActorConfig = "application/vnd.wasmcloud.actor.archive.config"
	MediaTypeWasmCloudActorLayer  = "application/vnd.wasmcloud.actor.archive.layer.v1+wasm"
	// MediaTypeImageLayerGzip is the layer of Istio's "compat" variant:
	// a container image whose one tar+gzip layer holds plugin.wasm.
	MediaTypeImageLayerGzip = ocispec.MediaTypeImageLayerGzip
)

// AnnotationWasmVariant marks an OCI image built as Istio's compat wasm
// image (value [WasmVariantCompat]).
const (
	AnnotationWasmVariant = "module.wasm.image/variant"
	WasmVariantCompat     = "compat"
)

var (
	// wasmLayerTypes are the layer media types that carry wasm bytes.
	wasmLayerTypes = []string{
		MediaTypeWasm,
		MediaTypeComponentV1,
		MediaTypeBytecodeAllianceLayer,
		MediaTypeWasmContentLayer,
		MediaTypeWasmeLayer,
		MediaTypeW3CModule,
		MediaTypeW3CComponent,
		MediaTypeWasmComponentV1Wasm,
		MediaTypeWasmCloudActorLayer,
	}
	// policyLayerTypes are the layer media types that carry a permission
	// policy. The generic YAML types are what older publishers used.
	policyLayerTypes = []string{
		MediaTypePolicy,
		MediaTypeWassettePolicy,
		"application/x-yaml",
		"text/yaml",
	}
	// wasmConfigTypes identify a wasm artifact by its config alone.
	wasmConfigTypes = []string{MediaTypeConfig, MediaTypeConfigV1, MediaTypeWasmeConfig, MediaTypeSpinApp, MediaTypeWasmCloudActorConfig}
	// neutralConfigTypes say nothing about the payload: wasm-to-oci pushed
	// an image config ({}), OCI 1.1 artifacts use the empty descriptor.
	// Docker's image config is neutral too, in a Docker manifest only
	// (see identify). An
	// artifact with such a config is wasm when its layers say so.
	neutralConfigTypes = []string{ocispec.MediaTypeImageConfig, ocispec.MediaTypeEmptyJSON}
	// wasmArtifactTypes are the artifactType values that identify a wasm
	// artifact: the config types (what artifactType defaults to under the
	// OCI 1.1 rule) and the wasm layer types.
	wasmArtifactTypes = slices.Concat(wasmConfigTypes, wasmLayerTypes)
)

// WasmLayerTypes returns the layer media types read as wasm, preferred first.
func WasmLayerTypes() []string { return slices.Clone(wasmLayerTypes) }

// PolicyLayerTypes returns the layer media types read as a permission policy.
func PolicyLayerTypes() []string { return slices.Clone(policyLayerTypes) }

// ConfigTypes returns every config media type wasmgate accepts.
func ConfigTypes() []string { return slices.Concat(wasmConfigTypes, neutralConfigTypes) }

// LayerRole says what a layer is for.
type LayerRole string

const (
	RoleWasm   LayerRole = "wasm"
	RolePolicy LayerRole = "policy"
	// RoleConfig: a layer that repeats the config blob, as wasme pushes
	// its runtime config both as config and as first layer.
	RoleConfig  LayerRole = "config"
	RoleUnknown LayerRole = "unknown"
)

// RoleOf classifies a layer media type.
func RoleOf(mediaType string) LayerRole {
	switch {
	case slices.Contains(wasmLayerTypes, mediaType):
		return RoleWasm
	case slices.Contains(policyLayerTypes, mediaType):
		return RolePolicy
	case mediaType == MediaTypeWasmeConfig:
		return RoleConfig
	default:
		return RoleUnknown
	}
}
