package artifact

import (
	"github.com/wasmgate/wasmgate/permissions"
)

// Inspection describes an artifact. Its JSON form is what
// `wasmgate inspect --output json` prints.
type Inspection struct {
	Reference    string `json:"reference"`
	Digest       string `json:"digest"`
	MediaType    string `json:"mediaType"`
	ArtifactType string `json:"artifactType"`
	// Shape is the publisher layout read ("" for a package not pushed).
	Shape       Shape                `json:"shape,omitempty"`
	Size        int64                `json:"size"`
	Annotations map[string]string    `json:"annotations,omitempty"`
	Config      ConfigInfo           `json:"config"`
	Kind        Kind                 `json:"kind"`
	Layers      []LayerInfo          `json:"layers"`
	Policy      *permissions.Summary `json:"policy,omitempty"`
	// Component is what a component imports and exports, read from its
	// binary; nil for a core module.
	Component *ComponentInfo `json:"component,omitempty"`
	// Components are a Spin application's components: id, the digest and
	// size of its wasm layer, its kind.
	Components []SpinComponent `json:"components,omitempty"`
}

// ConfigInfo is the config part of an [Inspection].
type ConfigInfo struct {
	MediaType    string `json:"mediaType"`
	Digest       string `json:"digest"`
	Size         int64  `json:"size"`
	Architecture string `json:"architecture,omitempty"`
	OS           string `json:"os,omitempty"`
	Created      string `json:"created,omitempty"`
}

// LayerInfo is one layer of an [Inspection].
type LayerInfo struct {
	Role      LayerRole `json:"role"`
	MediaType string    `json:"mediaType"`
	Digest    string    `json:"digest"`
	Size      int64     `json:"size"`
	Title     string    `json:"title,omitempty"`
	Kind      Kind      `json:"kind,omitempty"` // wasm layers: module or component
}

// InspectPackage describes the artifact a push of pkg would create.
func InspectPackage(pkg *Package) *Inspection {
	in := &Inspection{
		Digest:       pkg.Manifest.Digest.String(),
		MediaType:    pkg.Manifest.MediaType,
		ArtifactType: MediaTypeConfig,
		Size:         pkg.Manifest.Size,
		Kind:         pkg.Kind,
		Component:    pkg.Component,
		Config:       ConfigInfo{MediaType: pkg.Config.MediaType, Digest: pkg.Config.Digest.String(), Size: pkg.Config.Size, Architecture: "wasm", OS: pkg.Kind.OS()},
		Layers: []LayerInfo{{Role: RoleWasm, MediaType: pkg.Wasm.MediaType, Digest: pkg.Wasm.Digest.String(),
			Size: pkg.Wasm.Size, Title: Title(pkg.Wasm), Kind: pkg.Kind}},
	}
	if p := pkg.Policy; p != nil {
		in.Layers = append(in.Layers, LayerInfo{Role: RolePolicy, MediaType: p.MediaType, Digest: p.Digest.String(), Size: p.Size, Title: Title(*p)})
		if pol, err := ParsePolicyLayer(pkg.PolicyYAML); err == nil {
			s := pol.Summary()
			in.Policy = &s
		}
	}
	return in
}
